package audit

import "hash/maphash"

// dedupeSerials is how many consecutive audit serials a Decoder remembers
// to drop a second copy of a record: the same record reaches two transports
// within seconds, or a few hundred thousand records apart when two logs are
// read one after the other. Up to dedupeWays records may share one serial
// (several AppArmor records of one syscall) or one slot. The table (4 MiB)
// also keeps the garbage collector from running every few megabytes on a
// long log, which costs more than the table.
const (
	dedupeSerials = 1 << 17
	dedupeWays    = 4
)

// dedupe is a table of record fingerprints indexed by serial: no map, no
// per-record allocation, constant memory, allocated a chunk at a time as
// serials reach it.
type dedupe struct {
	seed   maphash.Seed
	chunks [dedupeSerials / dedupeChunk]*[dedupeChunk][dedupeWays]uint64
}

const dedupeChunk = 1 << 12

func newDedupe() dedupe {
	return dedupe{seed: maphash.MakeSeed()}
}

// add reports whether e is new, remembering it.
func (d *dedupe) add(e *Event) bool {
	i := e.Serial % dedupeSerials
	c := d.chunks[i/dedupeChunk]
	if c == nil {
		c = new([dedupeChunk][dedupeWays]uint64)
		d.chunks[i/dedupeChunk] = c
	}
	fp := d.fingerprint(e) | 1 // 0 marks an empty way
	b := &c[i%dedupeChunk]
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
		if s != "" {
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
