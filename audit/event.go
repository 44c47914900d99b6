// Package audit reads AppArmor's kernel audit records from every log form a
// Linux host writes (auditd's audit.log, syslog/kern.log, dmesg and /dev/kmsg,
// journald) and turns them into typed Events.
//
// The package knows nothing of profiles: it only reports what the kernel said.
package audit

import "time"

// Mode is the AppArmor decision a record reports: the value of the kernel's
// apparmor= key, or, for records without it, the mode implied by the record
// type (APPARMOR_DENIED, 1503, means DENIED).
type Mode string

// The modes the kernel logs.
const (
	ModeAllowed Mode = "ALLOWED" // complain mode: the access happened and was logged
	ModeDenied  Mode = "DENIED"  // enforce mode: the access was refused
	ModeAudit   Mode = "AUDIT"   // an audit rule matched; the access was allowed
	ModeStatus  Mode = "STATUS"  // a profile was loaded, replaced or removed
	ModeHint    Mode = "HINT"    // informational
	ModeError   Mode = "ERROR"   // an error inside AppArmor
	ModeKill    Mode = "KILLED"  // kill mode: the task was killed
)

// Unset marks an absent numeric field (fsuid, ouid, pid, ports, error, ...).
const Unset = -1

// Event is one AppArmor record with every field decoded (hex-encoded kernel
// strings are already turned back into bytes). String fields are empty when
// the record does not carry the key; numeric fields are Unset.
//
// Field names follow the kernel's key names; the JSON form (MarshalJSON in
// json.go) uses the kernel's own keys.
type Event struct {
	// Type is the audit record type: 1400 (AVC), 1107 (USER_AVC), 1500-1507
	// (APPARMOR, APPARMOR_AUDIT ... APPARMOR_KILL); 0 when the line carried
	// no type (a dbus-daemon syslog line).
	Type      int
	Mode      Mode   // apparmor=
	Operation string // operation=
	Class     string // class= (newer kernels: file, net, signal, ptrace, unix, dbus, mount, ...)
	Profile   string // profile= (the confining profile; with stacking, may be a label)
	Label     string // label= (newer kernels log label= instead of profile= for some ops)
	Name      string // name= (the object: a path, a capability's name for old forms, ...)
	Name2     string // name2= (link/rename target)
	Target    string // target= (exec/change_profile target profile)
	// Requested and denied permission masks, as the kernel logged them
	// ("r", "rw", "x", "send receive", ...).
	RequestedMask string
	DeniedMask    string
	FSUID         int64 // fsuid= (or FSUID= after the 0x1d separator)
	OUID          int64 // ouid=
	// Network.
	Family   string // family= ("inet", "inet6", "unix", ...)
	SockType string // sock_type= ("stream", "dgram", "raw", ...)
	Protocol int64  // protocol= (a number)
	Laddr    string // laddr=
	Lport    int64  // lport=
	Faddr    string // faddr=
	Fport    int64  // fport=
	Addr     string // addr= (unix socket address)
	PeerAddr string // peer_addr=
	// Capability.
	Capability int64  // capability=
	Capname    string // capname=
	// Signal, ptrace, unix, dbus peers.
	Signal      string // signal=
	Peer        string // peer= (the peer's label)
	PeerProfile string // peer_profile= (older kernels)
	PeerPID     int64  // peer_pid=
	// D-Bus (USER_AVC records from dbus-daemon).
	Bus       string // bus=
	Path      string // path=
	Interface string // interface=
	Member    string // member=
	PeerLabel string // peer_label=
	DestName  string // name= on a dbus record goes to Name; dest= here
	// The sender of a USER_AVC, as the kernel records it before msg='...':
	// the process (dbus-daemon, dbus-broker) that logged the record. Unset
	// and empty for the kernel's own records.
	SenderPID   int64  // pid= before msg='
	SenderUID   int64  // uid= before msg='
	SenderLabel string // subj= before msg=' (the sender's AppArmor label, when logged)
	// Mount.
	Fstype  string // fstype=
	Flags   string // flags=
	SrcName string // srcname=
	// Misc.
	Info      string // info=
	Error     int64  // error= (a negative errno; see HasError, since error=-1 equals Unset)
	ErrorSet  bool   // the record carried error=
	TargetSet bool   // the record carried target=, perhaps empty (Launchpad bug 1689667's ptrace records)
	Attribute string // attribute= (setprocattr)
	Execpath  string // execpath=
	Namespace string // namespace=
	PID       int64  // pid=
	Parent    int64  // parent=
	Comm      string // comm=
	// Attached from companion records with the same serial.
	Exe       string // exe= from the type=1300 SYSCALL record
	Proctitle string // proctitle= from the type=1327 PROCTITLE record, NULs as spaces
	Syscall   int64  // syscall= from the SYSCALL record
	// Where and when.
	Time   time.Time // from audit(SEC.MSEC:SERIAL)
	Serial uint64    // the audit serial; with Time, the record's identity
	Source string    // the source the line came from (a file path, "journald", "kmsg", "-")
	Line   int       // 1-based line number in Source (0 when the source has no lines)
	// Extra holds every key=value the record carried that has no field above,
	// decoded, in record order.
	Extra []KV
}

// KV is one key=value pair from a record, value decoded.
type KV struct {
	Key, Value string
}

// ID returns the record's identity, "SEC.MSEC:SERIAL" as the kernel prints
// it in audit(...), or "" for a record without an audit stamp. Two records with the same ID are the same record seen
// through two transports.
func (e *Event) ID() string {
	if e.Serial == 0 {
		// No audit stamp (a dbus-daemon syslog line): no identity, even
		// when the syslog time is known.
		return ""
	}
	ms := e.Time.Nanosecond() / int(time.Millisecond)
	return formatID(e.Time.Unix(), ms, e.Serial)
}

// HasError reports whether the record carried error= (Error alone cannot
// tell error=-1, EPERM, from Unset).
func (e *Event) HasError() bool { return e.ErrorSet }

// ProfileName is the profile the record is about: Profile, or Label when the
// kernel logged a label instead.
func (e *Event) ProfileName() string {
	if e.Profile != "" {
		return e.Profile
	}
	return e.Label
}
