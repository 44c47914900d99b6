package policy

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
//	                Access (newer kernels: send receive create ...)
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
	Class      string
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
	Bus        string
	DbusPath   string
	Interface  string
	Member     string
	PeerName   string
	Fstype     string
	Flags      []string
}

// The access classes.
const (
	ClassFile          = "file"
	ClassLink          = "link"
	ClassCapability    = "capability"
	ClassNetwork       = "network"
	ClassSignal        = "signal"
	ClassPtrace        = "ptrace"
	ClassUnix          = "unix"
	ClassDbus          = "dbus"
	ClassMount         = "mount"
	ClassRemount       = "remount"
	ClassUmount        = "umount"
	ClassPivotRoot     = "pivot_root"
	ClassChangeProfile = "change_profile"
	ClassUserns        = "userns"
	ClassMqueue        = "mqueue"
	ClassIOUring       = "io_uring"
)
