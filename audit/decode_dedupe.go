package audit

import "hash/maphash"

// dedupeSerials is how many consecutive audit serials a Decoder remembers
// to drop a second copy of a record: the same record reaches two transports
// within seconds, or many records apart when two logs are read one after
// the other.
//
// Most serials carry one AppArmor record, so the table holds one entry per
// serial (1 MiB at most); the second and later records of one serial
// (several AppArmor records of one syscall) go to an overflow table of
// dedupeWays entries per slot, indexed by serial too, over the last
// dedupeOverflowSerials serials. Both are allocated a chunk at a time, as
// serials reach them: on a real log the overflow is barely touched.
// Memory is the cost that shows: touching a page for the first time costs
// more than everything this table does with it (measured: a 4 MiB table
// of four ways per serial made the whole read of a 200,000-record log 12%
// slower than this layout).
const (
	dedupeSerials         = 1 << 17
	dedupeOverflowSerials = 1 << 15
	dedupeWays            = 4
	dedupeChunk           = 1 << 12
)

// An entry is a record's fingerprint (its low fpBits bits, never 0) under
// a tag: the serial's bits above the table index, so that an entry of the
// same serial is told from one of an older serial in the same slot.
const (
	fpBits = 48
	fpMask = 1<<fpBits - 1
)

// dedupe is a table of record fingerprints indexed by serial: no map, no
// per-record allocation, constant memory.
type dedupe struct {
	seed     maphash.Seed
	key      uint64 // mixed into short values, see fingerprint
	chunks   [dedupeSerials / dedupeChunk]*[dedupeChunk]uint64
	overflow [dedupeOverflowSerials / dedupeChunk]*[dedupeChunk][dedupeWays]uint64
}

func newDedupe() dedupe {
	seed := maphash.MakeSeed()
	return dedupe{seed: seed, key: maphash.String(seed, "short values")}
}

// add reports whether e is new, remembering it.
func (d *dedupe) add(e *Event) bool {
	i := e.Serial % dedupeSerials
	tag := e.Serial / dedupeSerials << fpBits
	fp := tag | d.fingerprint(e)&fpMask | 1 // 0 marks an empty entry
	c := d.chunks[i/dedupeChunk]
	if c == nil {
		c = new([dedupeChunk]uint64)
		d.chunks[i/dedupeChunk] = c
	}
	p := &c[i%dedupeChunk]
	switch {
	case *p == fp:
		return false
	case *p == 0 || *p&^fpMask != tag:
		// Empty, or an older serial's: this serial's first record.
		*p = fp
		return true
	}
	// Another record of a serial already seen: the overflow ways. A
	// fingerprint covers the serial, so an older serial's entries there
	// never match; they are shifted out.
	j := e.Serial % dedupeOverflowSerials
	o := d.overflow[j/dedupeChunk]
	if o == nil {
		o = new([dedupeChunk][dedupeWays]uint64)
		d.overflow[j/dedupeChunk] = o
	}
	b := &o[j%dedupeChunk]
	for _, x := range b {
		if x == fp {
			return false
		}
	}
	copy(b[1:], b[:dedupeWays-1])
	b[0] = fp
	return true
}

// fingerprint hashes the record's identity and what the kernel said in it,
// not where it was read nor which companions were attached. Two records
// of one syscall share an id but differ in operation, name or mask.
func (d *dedupe) fingerprint(e *Event) uint64 {
	h := uint64(e.Time.Unix())*1000003 ^ uint64(e.Time.Nanosecond())*7919 ^ e.Serial*0x9E3779B97F4A7C15
	mix := func(s string) {
		switch {
		case s == "":
		case len(s) <= 8:
			// Short values (masks, modes, operations) are their own
			// bytes, mixed with the seed's key: cheaper than a hash call.
			var v uint64
			for i := 0; i < len(s); i++ {
				v |= uint64(s[i]) << (8 * i)
			}
			h = (h ^ v ^ d.key) * 0x100000001B3
			h ^= uint64(len(s))
		default:
			h = (h ^ maphash.String(d.seed, s)) * 0x100000001B3
		}
		h = h*31 + 1
	}
	mix(string(e.Mode))
	mix(e.Operation)
	mix(e.Class)
	mix(e.Profile)
	mix(e.Label)
	mix(e.Name)
	mix(e.Name2)
	mix(e.Target)
	mix(e.RequestedMask)
	mix(e.DeniedMask)
	mix(e.Peer)
	mix(e.Signal)
	mix(e.Capname)
	mix(e.Family)
	mix(e.SockType)
	mix(e.Laddr)
	mix(e.Faddr)
	mix(e.Addr)
	mix(e.PeerAddr)
	mix(e.Info)
	mix(e.Comm)
	mix(e.Bus)
	mix(e.Path)
	mix(e.Interface)
	mix(e.Member)
	for _, n := range [...]int64{e.PID, e.Lport, e.Fport, e.Capability, e.FSUID, e.OUID, e.Protocol, e.Error} {
		h = (h ^ uint64(n)) * 0x100000001B3
	}
	for _, kv := range e.Extra {
		mix(kv.Key)
		mix(kv.Value)
	}
	return h
}
