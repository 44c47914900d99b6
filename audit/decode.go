package audit

import (
	"bytes"
	"maps"
	"strconv"
	"time"

	src "github.com/aa-flow/aa-flow/audit/source"
)

// Decoder turns a stream of log lines into Events: it parses each line,
// attaches the SYSCALL/PROCTITLE companions that follow an AppArmor record
// with the same serial, drops records seen twice (same audit id and same
// content, e.g. through the kernel log and the audit transport), counts
// skipped and malformed lines and detects lost records.
//
// For speed the events a Decoder returns share memory in small blocks (16
// events; their text in 8 KiB blocks, values a service repeats interned
// once): a kept event keeps its blocks alive. To keep a few events out of
// very many, keep e.Clone(). Events from Feed, FeedMessage, FeedRecord and
// Flush stay valid (unlike Read's, which reuses them).
//
// A Decoder is not safe for concurrent use; feed it from one goroutine.
type Decoder struct {
	stats Stats

	// pending holds the events of the current serial, waiting for their
	// companions until a line with another serial arrives.
	pending       []*Event
	pendingSerial uint64
	pendingSource string

	seen dedupe
	lost lostState
	// lastTime is the time of the last record fed, to date loss reports
	// whose syslog stamp has no year.
	lastTime time.Time
	alloc    allocator
	out      []*Event // block the returned slices are cut from
	// reuse: the events returned are handed back with release once used
	// (Read), so their storage, and the returned slice, is reused.
	reuse bool

	// byProfile counts the events returned by profile and mode.
	byProfile Tally

	// open is the last line fed when it was a USER_AVC record whose
	// msg='...' the line did not close (see continuation); joined is the
	// buffer the two lines are joined in.
	open   openRecord
	joined []byte
}

// openRecord is a text line holding a USER_AVC record whose message the
// line did not close, and the pending event parsed from it.
type openRecord struct {
	line   []byte
	source string
	lineNo int
	ev     *Event
}

// Stats counts what a Decoder has seen.
type Stats struct {
	Lines      int // lines fed
	Records    int // AppArmor records parsed (duplicates included)
	Companions int // SYSCALL/PROCTITLE records parsed
	Skipped    int // lines that are neither
	Duplicates int // records dropped as already seen
	// Malformed lists lines that looked like AppArmor records but could not
	// be parsed (the first maxMalformed of them); MalformedTotal counts all.
	Malformed      []Malformed
	MalformedTotal int
	// Refused lists lines that read like records but are not shown to be
	// the kernel's (the first maxMalformed of them); RefusedTotal counts
	// all, RefusedBy by reason. They are never returned.
	Refused      []Refused
	RefusedTotal int
	RefusedBy    map[Reason]int
	// Lost lists evidence that records were lost before they reached the log.
	Lost []Lost
	// ByProfile counts the events returned, by profile (or label) and mode.
	ByProfile map[string]map[Mode]int
}

// Malformed is a line in the kernel's record form that could not be parsed
// (a record cut short or garbled), or an entry a source could not read.
type Malformed struct {
	Source string
	Line   int
	Err    string
	// Time is when the line was logged: its audit(...) stamp, or its
	// syslog time; zero when it shows neither (then nothing shows it is
	// outside a window).
	Time time.Time `json:",omitzero"`
	// InWindow: logged after the opening record of the Window read, in
	// its source's log order (see Lost.InWindow).
	InWindow bool `json:",omitempty"`
}

// Counts reports whether the line counts against a window read from since
// on: logged after its opening record, undated (nothing shows it is
// outside), or dated at or after since.
func (m Malformed) Counts(since time.Time) bool {
	return m.InWindow || m.Time.IsZero() || !m.Time.Before(since)
}

// Refused is a line refused as not the kernel's, and why.
type Refused struct {
	Source string
	Line   int
	Reason Reason
}

const maxMalformed = 1000

// NewDecoder returns an empty Decoder.
func NewDecoder() *Decoder {
	return &Decoder{
		seen: newDedupe(),
		lost: newLostState(),
	}
}

// Feed parses one line of a text log (a file, stdin) read from source (a
// file path, "-") at 1-based lineNo and returns the events now complete
// (0..n). Only a line in a form the kernel's records take counts (see
// FeedOrigin). Feed does not retain line.
func (d *Decoder) Feed(line []byte, source string, lineNo int) []*Event {
	return d.feed(line, nil, src.Text, source, lineNo)
}

// FeedMessage is Feed for the MESSAGE of a journald audit-transport entry
// ("AVC apparmor=...", "SYSCALL ..."), whose time and serial come from the
// entry's fields in def when the message has no audit(...) stamp. It does
// not retain msg.
func (d *Decoder) FeedMessage(msg []byte, def MessageDefaults, source string, lineNo int) []*Event {
	return d.feed(msg, &def, src.Audit, source, lineNo)
}

// FeedOrigin is Feed for a line of the given origin: a record counts only
// when the message itself starts with the kernel's audit prefix in the
// form its origin has (a kernel message: "audit: type=1400
// audit(SEC.MS:SERIAL): apparmor=..."; a text log: auditd's "type=AVC
// msg=audit(...): apparmor=...", or a kernel message alone, after a dmesg
// time or after a syslog header whose tag is kernel:), with the field the
// kernel writes first. A USER_AVC (a user-space message the kernel relays,
// with its sender) counts only for D-Bus. Any other line that reads like a
// record is counted as refused (Stats.Refused), never returned.
func (d *Decoder) FeedOrigin(line []byte, o src.Origin, source string, lineNo int) []*Event {
	return d.feed(line, nil, o, source, lineNo)
}

func (d *Decoder) feed(line []byte, def *MessageDefaults, o src.Origin, source string, lineNo int) []*Event {
	d.stats.Lines++
	d.markAuditd(line, o, source)
	if d.open.ev != nil {
		open := d.open
		d.open.ev = nil
		if o == src.Text && def == nil && source == open.source && lineNo == open.lineNo+1 && d.continueRecord(open, line) {
			return nil
		}
	}
	why := frame(line, o)
	if why == reasonStamp {
		// The kernel's prefix with a stamp it does not write: a damaged
		// record, or nothing AppArmor's.
		rec, err := parse(line, def, nil)
		if rec != nil || err != nil {
			d.malformed(source, lineNo, lineTime(line, d.lastTime), &ParseError{Column: bytes.Index(line, keyAudit) + len(keyAudit) + 1, Field: "audit", Msg: "want audit(SECONDS.MILLIS:SERIAL):"})
			return nil
		}
		d.stats.Skipped++
		return nil
	}
	if why != "" && why != ReasonLayout {
		// Not the kernel's prefix: nothing in the line counts, not even
		// its serial.
		if rec, err := parse(line, def, nil); rec != nil || err != nil {
			d.refuse(source, lineNo, why)
			return nil
		}
		d.stats.Skipped++
		if def == nil {
			d.lost.line(&d.stats, line, source, lineNo, d.lastTime)
		}
		return nil
	}
	rec, err := parse(line, def, &d.alloc)
	if why == "" && rec != nil && rec.Event != nil {
		why = userMessage(rec.Event)
	}
	if why != "" && (rec != nil || err != nil) {
		if rec != nil && rec.Event != nil && d.reuse {
			d.alloc.free = append(d.alloc.free, rec.Event)
		}
		d.refuse(source, lineNo, why)
		return nil
	}
	if err != nil {
		t := lineTime(line, d.lastTime)
		if t.IsZero() && def != nil {
			t = def.Time
		}
		d.malformed(source, lineNo, t, err)
		return nil
	}
	if rec != nil && rec.Event != nil && o == src.Text && def == nil && openMessage(line, rec.Event) {
		out := d.feedRecord(rec, source, lineNo)
		if n := len(d.pending); n > 0 && d.pending[n-1] == rec.Event {
			d.open = openRecord{line: append(d.open.line[:0], line...), source: source, lineNo: lineNo, ev: rec.Event}
		}
		return out
	}
	if rec == nil {
		d.stats.Skipped++
		if def != nil {
			// Another type's record on the audit transport: it holds a
			// serial of the kernel's sequence all the same.
			d.lost.serial(source, lineNo, def.Serial, def.Time)
			return nil
		}
		var out []*Event
		if serial, ok := lineSerial(line); ok {
			if len(d.pending) > 0 && (serial != d.pendingSerial || source != d.pendingSource) {
				out = d.flushPending()
			}
			if !daemonRecord(line) {
				d.lost.serial(source, lineNo, serial, d.lost.stampTime(line))
			}
		} else {
			d.lost.line(&d.stats, line, source, lineNo, d.lastTime)
		}
		return out
	}
	return d.feedRecord(rec, source, lineNo)
}

// refuse counts a line that reads like a record but is not the kernel's.
func (d *Decoder) refuse(source string, lineNo int, why Reason) {
	d.stats.RefusedTotal++
	if d.stats.RefusedBy == nil {
		d.stats.RefusedBy = map[Reason]int{}
	}
	d.stats.RefusedBy[why]++
	if len(d.stats.Refused) < maxMalformed {
		d.stats.Refused = append(d.stats.Refused, Refused{Source: source, Line: lineNo, Reason: why})
	}
}

// FeedRecord is Feed for a record the caller parsed itself (journald's audit
// transport, with ParseMessage). It counts one line. As with Feed, a
// USER_AVC about anything but D-Bus is refused (ReasonUserMessage).
func (d *Decoder) FeedRecord(rec *Record, source string, lineNo int) []*Event {
	d.stats.Lines++
	if rec == nil {
		d.stats.Skipped++
		return nil
	}
	if rec.Event != nil {
		if why := userMessage(rec.Event); why != "" {
			d.refuse(source, lineNo, why)
			return nil
		}
	}
	return d.feedRecord(rec, source, lineNo)
}

// Malformed records a line the caller could not parse (for FeedRecord users).
// t is when it was logged, if known.
func (d *Decoder) Malformed(source string, lineNo int, t time.Time, err error) {
	d.stats.Lines++
	d.malformed(source, lineNo, t, err)
}

func (d *Decoder) malformed(source string, lineNo int, t time.Time, err error) {
	d.stats.MalformedTotal++
	if len(d.stats.Malformed) < maxMalformed {
		d.stats.Malformed = append(d.stats.Malformed, Malformed{Source: source, Line: lineNo, Err: err.Error(), Time: t})
	}
}

// MalformedSince counts the malformed lines logged at or after since, and
// those whose time is unknown (undated, or past the first maxMalformed
// kept): nothing shows they are older.
func (s *Stats) MalformedSince(since time.Time) int {
	n := s.MalformedTotal - len(s.Malformed)
	for _, m := range s.Malformed {
		if m.Counts(since) {
			n++
		}
	}
	return n
}

func (d *Decoder) feedRecord(rec *Record, source string, lineNo int) []*Event {
	var out []*Event
	if c := rec.Companion; c != nil {
		d.stats.Companions++
		if len(d.pending) > 0 && c.Serial == d.pendingSerial && source == d.pendingSource {
			for _, e := range d.pending {
				attach(e, c)
			}
		} else if len(d.pending) > 0 {
			out = d.flushPending()
		}
		d.lost.serial(source, lineNo, c.Serial, c.Time)
		return out
	}
	e := rec.Event
	d.stats.Records++
	if !e.Time.IsZero() {
		d.lastTime = e.Time
	}
	e.Source, e.Line = source, lineNo
	if len(d.pending) > 0 && (e.Serial != d.pendingSerial || source != d.pendingSource) {
		out = d.flushPending()
	}
	if e.Serial != 0 {
		d.lost.serial(source, lineNo, e.Serial, e.Time)
	}
	if e.Serial == 0 {
		// Nothing can follow it (a dbus-daemon syslog line): done now.
		if d.keep(e) {
			out = append(out, e)
		}
		return out
	}
	d.pending = append(d.pending, e)
	d.pendingSerial, d.pendingSource = e.Serial, source
	return out
}

// Flush returns the events still waiting for companions; call it at the end
// of input (or when a followed source goes idle).
func (d *Decoder) Flush() []*Event {
	return d.flushPending()
}

func (d *Decoder) flushPending() []*Event {
	if len(d.pending) == 0 {
		return nil
	}
	out := d.outSlice(len(d.pending))
	for _, e := range d.pending {
		if d.keep(e) {
			out = append(out, e)
		} else if d.reuse {
			d.alloc.free = append(d.alloc.free, e)
		}
	}
	clear(d.pending)
	d.pending = d.pending[:0]
	return out
}

// outSlice returns an empty slice with room for n events, cut from a block
// so that returning events does not allocate each time. Each returned slice
// has its own memory (capacity n): a caller may keep or append to it.
func (d *Decoder) outSlice(n int) []*Event {
	if d.reuse {
		return d.out[:0]
	}
	if n > 64 {
		return make([]*Event, 0, n)
	}
	if cap(d.out)-len(d.out) < n {
		d.out = make([]*Event, 0, 256)
	}
	start := len(d.out)
	d.out = d.out[:start+n]
	return d.out[start : start : start+n]
}

// newReusingDecoder returns a Decoder whose returned events (and the slice
// holding them) are valid only until they are passed to release, which
// must happen before the next Feed, FeedMessage or Flush. Only events from
// Feed and FeedMessage may be released (not FeedRecord's).
func newReusingDecoder() *Decoder {
	d := NewDecoder()
	d.reuse = true
	return d
}

// release hands back events this Decoder returned, for reuse.
func (d *Decoder) release(evs []*Event) {
	if d.reuse {
		d.alloc.release(evs)
		// Keep the slice's array for the next result.
		if cap(evs) > cap(d.out) {
			d.out = evs[:0]
		}
	}
}

// keep deduplicates e and counts it.
func (d *Decoder) keep(e *Event) bool {
	if e.Serial != 0 && !d.seen.add(e) {
		d.stats.Duplicates++
		return false
	}
	if e.Type != TypeSeccomp {
		d.byProfile.Add(e.ProfileName(), e.Mode)
	}
	return true
}

// Stats returns a copy of the counts so far.
func (d *Decoder) Stats() Stats {
	s := d.stats
	s.Malformed = append([]Malformed(nil), s.Malformed...)
	s.Refused = append([]Refused(nil), s.Refused...)
	if s.RefusedBy != nil {
		s.RefusedBy = maps.Clone(s.RefusedBy)
	}
	s.Lost = d.lost.report(d.stats.Lost)
	s.ByProfile = d.byProfile.Counts()
	return s
}

func attach(e *Event, c *Companion) {
	switch c.Type {
	case TypeSyscall:
		if c.Exe != "" {
			e.Exe = c.Exe
		}
		if c.Syscall != Unset {
			e.Syscall = c.Syscall
		}
	case TypeProctitle:
		e.Proctitle = c.Proctitle
	}
}

// lineSerial finds the serial of any audit record line: audit(SEC.MS:SERIAL).
// markAuditd notes, once per source, that a text line is in auditd's own
// form ("type=... msg=audit(", "node=... type=..."): the source is
// auditd's log, whose serial gaps are loss (see Lost.Auditd).
func (d *Decoder) markAuditd(line []byte, o src.Origin, source string) {
	if o != src.Text || (!bytes.HasPrefix(line, []byte("type=")) && !bytes.HasPrefix(line, []byte("node="))) {
		return
	}
	if s := d.lost.source(source); !s.auditd {
		s.auditd = true
	}
}

// daemonRecord reports whether an auditd log line is one of auditd's own
// records (DAEMON_START, DAEMON_ROTATE, DAEMON_END, ...), which carry
// auditd's serials, not the kernel's: on Debian 12 DAEMON_START was
// msg=audit(...:6506) among kernel serials 2..132.
func daemonRecord(line []byte) bool {
	i := bytes.Index(line, keyAudit)
	return i > 0 && bytes.Contains(line[:i], []byte("type=DAEMON_"))
}

func lineSerial(line []byte) (uint64, bool) {
	i := bytes.Index(line, keyAudit)
	if i < 0 {
		return 0, false
	}
	j := i + len(keyAudit)
	c := bytes.IndexByte(line[j:], ':')
	if c < 0 || c > 32 {
		return 0, false
	}
	j += c + 1
	k := j
	for k < len(line) && line[k] >= '0' && line[k] <= '9' {
		k++
	}
	if k == j || k >= len(line) || line[k] != ')' {
		return 0, false
	}
	n, err := strconv.ParseUint(string(line[j:k]), 10, 64)
	return n, err == nil
}
