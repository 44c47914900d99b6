package audit

import (
	"strings"
	"unsafe"
)

// allocator hands out records and string bytes in blocks, so that a
// Decoder does not call the allocator once or twice per line. A nil
// allocator allocates each record on its own (Parse). String blocks are
// never written again once handed out, so strings cut from them stay valid
// as long as anyone holds them; a string kept alive keeps its block
// (stringBlock bytes of line text) alive. A caller that keeps a few events
// out of many can detach them with Event.Clone.
//
// Events come from blocks too, or, once the Decoder's user has handed them
// back (release, which only Read does), from the free list: Read's events
// are valid only during its callback. The Record and Companion wrappers
// are consumed by the Decoder at once and reused for every line.
type allocator struct {
	events []Event
	free   []*Event
	rec    Record
	comp   Companion
	bytes  []byte
	// interned maps raw companion values (exe=, proctitle=) to their
	// decoded strings: a service's records repeat a few values.
	interned   map[internKey]internedValue
	lastIntern [2]internedValue  // the last exe= and proctitle= values
	kept       map[string]string // see keep
	recent     [256]string       // see keep
}

type internKey struct {
	raw               string
	quoted, proctitle bool
}

// maxInterned bounds the intern table; it starts over when full.
const maxInterned = 4096

// keepValues maps values read in place from a line to stable copies; it
// starts over when maxInterned values are in it. Only values up to
// maxKeepLen bytes are remembered.
const maxKeepLen = 128

// keep returns v, or a copy of it when v may refer to a line buffer (a
// non-nil allocator): the copy interned when v was kept before, so the
// values a service repeats (profile, operation, masks, comm, names) cost
// no allocation.
func (a *allocator) keep(v string) string {
	if a == nil || v == "" {
		return v
	}
	// A direct-mapped cache in front of the table: consecutive records
	// mostly repeat the last values, and a string compare is cheaper than
	// hashing.
	slot := &a.recent[(uint(len(v))*31+uint(v[0])*7+uint(v[len(v)/2])*131+uint(v[len(v)-1]))%uint(len(a.recent))]
	if *slot == v {
		return *slot
	}
	if k, ok := a.kept[v]; ok {
		*slot = k
		return k
	}
	if cap(a.bytes)-len(a.bytes) < len(v) && len(v) <= stringBlock/4 {
		a.bytes = make([]byte, 0, stringBlock)
	}
	var k string
	if len(v) > stringBlock/4 {
		k = strings.Clone(v)
	} else {
		start := len(a.bytes)
		a.bytes = append(a.bytes, v...)
		k = unsafe.String(&a.bytes[start], len(v))
	}
	if len(v) <= maxKeepLen {
		if a.kept == nil || len(a.kept) >= maxInterned {
			a.kept = make(map[string]string)
		}
		a.kept[k] = k
		*slot = k
	}
	return k
}

// decode is decodeString for a value that may refer to a line buffer: the
// result is kept (or freshly decoded from hex).
func (a *allocator) decode(raw string, quoted bool) string {
	if !quoted && isUpperHex(raw) {
		return decodeHex(raw)
	}
	return a.keep(raw)
}

// intern returns decode(raw, quoted), from the table when the same raw
// value (of the same kind: exe or proctitle) was seen before. The result never refers to raw's memory.
func (a *allocator) intern(raw []byte, quoted, proctitle bool, decode func(string, bool) string) string {
	if a == nil {
		return decode(string(raw), quoted)
	}
	// The last value of each kind first: a service's companions mostly
	// repeat the one before, and comparing bytes is cheaper than hashing.
	last := &a.lastIntern[0]
	if proctitle {
		last = &a.lastIntern[1]
	}
	if last.key.raw != "" && last.key.quoted == quoted && last.key.raw == string(raw) {
		return last.val
	}
	if in, ok := a.interned[internKey{string(raw), quoted, proctitle}]; ok {
		*last = in
		return in.val
	}
	r := a.string(raw) // a copy: the key must not refer to the line
	in := internedValue{internKey{r, quoted, proctitle}, decode(r, quoted)}
	if a.interned == nil || len(a.interned) >= maxInterned {
		a.interned = make(map[internKey]internedValue)
	}
	a.interned[in.key] = in
	*last = in
	return in.val
}

// internedValue is an intern table entry: the key (whose raw is a stable
// copy) with its decoded value.
type internedValue struct {
	key internKey
	val string
}

const (
	eventBlock  = 16
	stringBlock = 8 << 10
)

type recordEvent struct {
	rec Record
	ev  Event
}

type recordCompanion struct {
	rec Record
	c   Companion
}

// event returns a Record holding a zeroed Event.
func (a *allocator) event() *Record {
	if a == nil {
		re := &recordEvent{}
		re.rec.Event = &re.ev
		return &re.rec
	}
	var e *Event
	if n := len(a.free); n > 0 {
		e = a.free[n-1]
		a.free = a.free[:n-1]
		*e = Event{}
	} else {
		if len(a.events) == 0 {
			a.events = make([]Event, eventBlock)
		}
		e = &a.events[0]
		a.events = a.events[1:]
	}
	a.rec = Record{Event: e}
	return &a.rec
}

// companion returns a Record holding a zeroed Companion.
func (a *allocator) companion() *Record {
	if a == nil {
		rc := &recordCompanion{}
		rc.rec.Companion = &rc.c
		return &rc.rec
	}
	a.comp = Companion{}
	a.rec = Record{Companion: &a.comp}
	return &a.rec
}

// release hands events back for reuse: nothing may use them afterwards.
func (a *allocator) release(evs []*Event) {
	a.free = append(a.free, evs...)
}

// string copies b into the current block and returns it as a string. The
// bytes are never modified afterwards, which is what unsafe.String needs.
func (a *allocator) string(b []byte) string {
	if a == nil {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	if len(b) > stringBlock/4 {
		return string(b)
	}
	if cap(a.bytes)-len(a.bytes) < len(b) {
		a.bytes = make([]byte, 0, stringBlock)
	}
	start := len(a.bytes)
	a.bytes = append(a.bytes, b...)
	return unsafe.String(&a.bytes[start], len(b))
}

// Clone returns a deep copy of e that shares no memory with the Decoder's
// blocks (nor with e): keep clones when keeping a few events out of many.
func (e *Event) Clone() *Event {
	c := *e
	fields := [...]*string{&c.Operation, &c.Class, &c.Profile, &c.Label, &c.Name, &c.Name2, &c.Target,
		&c.RequestedMask, &c.DeniedMask, &c.Family, &c.SockType, &c.Laddr, &c.Faddr, &c.Addr, &c.PeerAddr,
		&c.Capname, &c.Signal, &c.Peer, &c.PeerProfile, &c.Bus, &c.Path, &c.Interface, &c.Member,
		&c.PeerLabel, &c.DestName, &c.SenderLabel, &c.Fstype, &c.Flags, &c.SrcName, &c.Info, &c.Attribute, &c.Execpath,
		&c.Namespace, &c.Comm, &c.Exe, &c.Proctitle, &c.Source}
	n := len(c.Mode)
	for _, f := range fields {
		n += len(*f)
	}
	for _, kv := range c.Extra {
		n += len(kv.Key) + len(kv.Value)
	}
	buf := make([]byte, 0, n)
	clone := func(s string) string {
		if s == "" {
			return ""
		}
		start := len(buf)
		buf = append(buf, s...)
		return unsafe.String(&buf[start], len(s))
	}
	c.Mode = Mode(clone(string(c.Mode)))
	for _, f := range fields {
		*f = clone(*f)
	}
	if c.Extra != nil {
		extra := make([]KV, len(c.Extra))
		for i, kv := range c.Extra {
			extra[i] = KV{clone(kv.Key), clone(kv.Value)}
		}
		c.Extra = extra
	}
	return &c
}
