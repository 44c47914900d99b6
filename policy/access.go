package policy

import (
	"reflect"
	"strconv"
	"strings"
)

// Access is one concrete access the kernel reported, in the model's terms.
// The learner builds it from an audit.Event; Policy.Covers and RuleCovers
// answer whether a profile already allows it.
//
// Which fields matter depends on Class:
//
//	file            Path (the object), Perms (requested letters from
//	                r w a x l k m c d; c and d count as w, a is covered by w),
//	                Owner, Target (exec: the profile the task went to, e.g.
//	                "parent//child" after a cx; link: the link's target path)
//	link            Path (the new link's name), Target (the existing file it
//	                points to); same as a file access with Perms "l"
//	capability      Capability ("sys_admin", no CAP_ prefix)
//	network         Family, SockType, Protocol (a name "tcp" or a number "6"),
//	                Access (newer kernels: send receive create ...); with
//	                fine-grained inet mediation Path and Port (the local
//	                address and port asked about), PeerAddr and PeerPort
//	signal          Access (send / receive), Signal ("term", "kill", ...), Peer
//	ptrace          Access (read trace readby tracedby), Peer
//	unix            Access, SockType, Path (the socket's address, "@name" for
//	                abstract ones), Peer (peer label), PeerAddr
//	dbus            Access (send receive bind eavesdrop), Bus, DbusPath,
//	                Interface, Member, PeerName (peer=(name=)), Peer (label)
//	mount           Path (the mount point), Target (the source: device or
//	                directory), Fstype, Flags (mount options)
//	remount, umount Path (the mount point), Flags (remount)
//	pivot_root      Path (the new root), Target (where the old root goes)
//	change_profile  Target (the profile), Path (the exec path, if any)
//	userns, mqueue,
//	io_uring        Access, Path (mqueue name), Peer (io_uring)
type Access struct {
	Class      Class
	Path       string
	Target     string
	Perms      string
	Owner      bool // the task's fsuid owns the object: owner rules apply, other rules do not
	Capability string
	Family     string
	SockType   string
	Protocol   string
	Access     []string
	Signal     string
	Peer       string
	PeerAddr   string
	Port       string // network: the local port
	PeerPort   string // network: the peer's port
	Bus        string
	DbusPath   string
	Interface  string
	Member     string
	PeerName   string
	Fstype     string
	Flags      []string
}

// Class is the class of an access. Its values are the rule keywords of
// apparmor.d(5) (a ClassRule's Class compares with Class(r.Class)).
type Class string

// The access classes.
const (
	ClassFile          Class = "file"
	ClassLink          Class = "link"
	ClassCapability    Class = "capability"
	ClassNetwork       Class = "network"
	ClassSignal        Class = "signal"
	ClassPtrace        Class = "ptrace"
	ClassUnix          Class = "unix"
	ClassDbus          Class = "dbus"
	ClassMount         Class = "mount"
	ClassRemount       Class = "remount"
	ClassUmount        Class = "umount"
	ClassPivotRoot     Class = "pivot_root"
	ClassChangeProfile Class = "change_profile"
	ClassUserns        Class = "userns"
	ClassMqueue        Class = "mqueue"
	ClassIOUring       Class = "io_uring"
)

// Members reports whether the class's accesses are merged by a set of
// members (signals for signal; access words for ptrace, unix, mqueue,
// userns, io_uring) rather than being one access each.
func (c Class) Members() bool {
	switch c {
	case ClassSignal, ClassPtrace, ClassUnix, ClassMqueue, ClassUserns, ClassIOUring:
		return true
	}
	return false
}

// AppendID appends to b an identity of a that tells apart any two
// different accesses: every field, each string preceded by its length and
// each list by its count, so that no bytes moved from one field to the
// next make the same identity. It is the one list of Access's fields.
func (a *Access) AppendID(b []byte) []byte {
	for _, s := range [...]string{string(a.Class), a.Path, a.Target, a.Perms, a.Capability, a.Family, a.SockType, a.Protocol,
		a.Signal, a.Peer, a.PeerAddr, a.Port, a.PeerPort, a.Bus, a.DbusPath, a.Interface, a.Member, a.PeerName, a.Fstype} {
		b = appendString(b, s)
	}
	if a.Owner {
		b = append(b, 'o')
	} else {
		b = append(b, '-')
	}
	b = appendList(b, a.Access)
	return appendList(b, a.Flags)
}

// appendString appends s preceded by its length.
func appendString(b []byte, s string) []byte {
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, ':')
	return append(b, s...)
}

// appendList appends l preceded by its count, each item by its length.
func appendList(b []byte, l []string) []byte {
	b = strconv.AppendInt(b, int64(len(l)), 10)
	b = append(b, '[')
	for _, s := range l {
		b = appendString(b, s)
	}
	return b
}

// AppendKey appends to b the key that merging accesses into one rule goes
// by: the identity (AppendID) without what a rule unites, the permissions
// and owner of a file access (an exec, x, stays apart from the file's
// other permissions) and, for a class with Members, the member (the
// signal, or the access words).
func (a *Access) AppendKey(b []byte) []byte {
	k := *a
	k.Owner = false
	switch {
	case a.Class == ClassFile:
		k.Perms = ""
		if strings.ContainsRune(a.Perms, 'x') {
			k.Perms = "x"
		}
	case a.Class == ClassSignal:
		k.Signal = ""
	case a.Class.Members():
		k.Access = nil
	}
	return k.AppendID(b)
}

// Clone returns a with its strings and lists copied, so that it keeps no
// record's memory alive.
func (a Access) Clone() Access {
	v := reflect.ValueOf(&a).Elem()
	for i := 0; i < v.NumField(); i++ {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString(strings.Clone(f.String()))
		case reflect.Slice:
			if f.IsNil() {
				continue
			}
			l := f.Interface().([]string)
			c := make([]string, len(l))
			for j, s := range l {
				c[j] = strings.Clone(s)
			}
			f.Set(reflect.ValueOf(c))
		}
	}
	return a
}
