package audit

// dedupeWindow is how many recent records a Decoder remembers to drop a
// second copy of: the same record reaches two transports within seconds.
const dedupeWindow = 1 << 14

// dedupeKey identifies a record: its audit id and a hash of its content.
type dedupeKey struct {
	sec    int64
	nsec   int
	serial uint64
	hash   uint64
}

// dedupe is a set of the last n record keys (FIFO eviction).
type dedupe struct {
	set  map[dedupeKey]struct{}
	ring []dedupeKey
	size int
	next int
}

func newDedupe(n int) dedupe {
	return dedupe{set: map[dedupeKey]struct{}{}, size: n}
}

// add reports whether e is new, remembering it.
func (d *dedupe) add(e *Event) bool {
	k := dedupeKey{sec: e.Time.Unix(), nsec: e.Time.Nanosecond(), serial: e.Serial, hash: contentHash(e)}
	if _, ok := d.set[k]; ok {
		return false
	}
	if len(d.ring) < d.size {
		d.ring = append(d.ring, k)
	} else {
		delete(d.set, d.ring[d.next])
		d.ring[d.next] = k
		d.next = (d.next + 1) % len(d.ring)
	}
	d.set[k] = struct{}{}
	return true
}

// contentHash hashes what the kernel said (FNV-1a), not where it was read
// nor what companions were attached.
func contentHash(e *Event) uint64 {
	h := uint64(14695981039346656037)
	str := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	num := func(n int64) {
		for i := 0; i < 8; i++ {
			h ^= uint64(n) >> (8 * i) & 0xff
			h *= 1099511628211
		}
	}
	str(string(e.Mode))
	for _, s := range [...]string{e.Operation, e.Class, e.Profile, e.Label, e.Name, e.Name2, e.Target,
		e.RequestedMask, e.DeniedMask, e.Family, e.SockType, e.Laddr, e.Faddr, e.Addr, e.PeerAddr,
		e.Capname, e.Signal, e.Peer, e.PeerProfile, e.Bus, e.Path, e.Interface, e.Member, e.PeerLabel,
		e.DestName, e.Fstype, e.Flags, e.SrcName, e.Info, e.Attribute, e.Execpath, e.Namespace, e.Comm} {
		str(s)
	}
	for _, n := range [...]int64{e.FSUID, e.OUID, e.Protocol, e.Lport, e.Fport, e.Capability,
		e.PeerPID, e.Error, e.PID, e.Parent} {
		num(n)
	}
	for _, kv := range e.Extra {
		str(kv.Key)
		str(kv.Value)
	}
	return h
}
