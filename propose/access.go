package propose

import (
	"strings"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/policy"
)

// Route is the one answer to "does a record of label belong to profile
// name, and into which (sub)profile do its rules go?", shared by the
// learner, the enforce gate and status. label belongs when it is name or
// one of its hats or children, alone or as one part of a stacked label
// ("a//&b"); a part in another policy namespace (":ns:web") is another
// profile, whatever its name. sub is the (sub)profile the record is judged
// as. Complain mode's null- children ("name//null-/bin/x", a program name
// ran without an exec rule) go where the program's exec rule sends it
// (Router.Exec); without one known, into their parent, as ix runs them.
func Route(label, name string) (sub string, ok bool) {
	return Router{Name: name}.Route(label)
}

// Router routes records to the (sub)profiles of Name whose rules they need
// (Route), knowing the exec rules: complain mode's null- child of a
// program belongs to the profile the program's exec rule runs it under,
// and a null- child's records learned into the parent would be wrong for
// a program that runs under a child profile (cx) once its rule is loaded.
type Router struct {
	Name string
	// Exec says where profile (a full kernel name) runs program: profile
	// itself (ix), a child of it ("svc///usr/bin/x", "svc//helper": cx),
	// or "" for a profile that is not one of Name's (px, ux). Nil: every
	// such program inherits (ix).
	Exec func(profile, program string) string
}

// Route is the (sub)profile of r.Name that a record of label needs rules
// in, and whether label belongs to r.Name at all. sub is "" for a label
// that belongs (a null- child) but whose program runs under another
// profile: its records need no rule of r.Name's.
func (r Router) Route(label string) (sub string, ok bool) {
	if label == "" || r.Name == "" {
		return "", false
	}
	for part := range strings.SplitSeq(label, "//&") {
		if sub, ok := r.routeOne(part); ok {
			return sub, true
		}
	}
	return "", false
}

func (r Router) routeOne(label string) (string, bool) {
	name := r.Name
	if label == name {
		return label, true
	}
	rest, ok := strings.CutPrefix(label, name)
	if !ok || !strings.HasPrefix(rest, "//") {
		return "", false
	}
	if !strings.Contains(rest, "//null-") {
		return label, true
	}
	out := name
	for part := range strings.SplitSeq(rest[2:], "//") {
		prog, null := strings.CutPrefix(part, "null-")
		if !null || !strings.HasPrefix(prog, "/") {
			out += "//" + part
			continue
		}
		// complain mode's child for an exec of prog: its accesses run
		// under the profile prog's exec rule gives it.
		if r.Exec != nil {
			out = r.Exec(out, prog)
		}
		if out == "" {
			return "", true
		}
	}
	return out, true
}

// peerAs is the label a record's peer has from profile's point of view:
// complain mode's null- children of profile become the (sub)profile they
// are routed to, as their own records are (Route). Other labels stay.
func peerAs(label string, r Router) string {
	if !strings.Contains(label, "//null-") {
		return label
	}
	if sub, ok := r.Route(label); ok && sub != "" {
		return sub
	}
	return label
}

// OptionalInfo is the info= the kernel gives a request it makes in
// passing and marks as not to be audited (CAP_OPT_NOAUDIT: Go reading
// /proc/sys/net/core/somaxconn probes net_admin). Complain mode logs it;
// enforce mode denies it silently and the program copes.
const OptionalInfo = "optional: no audit"

// Optional reports whether a record is such an optional request: nothing
// needs a rule for it, so the learner proposes none and the enforce gate
// does not count it as uncovered.
func Optional(e *audit.Event) bool {
	return e.Info == OptionalInfo
}

// LabelNotFound reports whether a record is a change of profile the kernel
// refused because no profile of the target's name is loaded (info="label
// not found", error=-2, ENOENT): no rule can allow it while that profile is
// missing, and once it is loaded the kernel judges the rule and logs again.
func LabelNotFound(e *audit.Event) bool {
	return (e.Operation == "change_onexec" || e.Operation == "change_profile") && e.Info == "label not found" && e.Error == -2
}

// DisconnectedInfo is the info= the kernel gives a file access whose path
// it could not name from the task's namespace root (aa_path_name's
// "disconnected path": an object of a mount outside the namespace, or of
// an internal one, such as mqueue's); the record's name= is then what the
// kernel could name, not a path.
const DisconnectedInfo = "Failed name lookup - disconnected path"

// DisconnectedPath reports whether a record is such an access: no path rule
// can cover it (the kernel matches rules against a path it does not have),
// so the learner proposes none, and the gate counts it as uncovered and
// says why (DisconnectedAdvice).
func DisconnectedPath(e *audit.Event) bool {
	return e.Info == DisconnectedInfo && !strings.HasPrefix(e.Name, "/")
}

// DisconnectedAdvice is what to do about profile's disconnected-path
// records, for the learner's note and the gate's refusal alike.
func DisconnectedAdvice(profile string) string {
	return "no rule can cover a disconnected path; the profile flag attach_disconnected makes the kernel name such objects as if under / " +
		"(so that a later record names a path and a rule can cover it), which apparmor.d(5) warns can alias objects that should not be allowed, " +
		"so aa-flow does not add it: if the service needs these accesses, add attach_disconnected to the flags of the profile the records name yourself, " +
		"restart the window (aa-flow complain " + profile + "), run the workload again and learn"
}

// Accesses are the accesses one record asks for, judged as profile's
// (complain mode's null- children of profile, in the record's peers, are
// profile: see Route); none for records no rule grants (status records,
// optional requests, access words that are not plain words, ...). The
// accesses refer to the record's strings. It is the one place that
// decides what a record means.
func Accesses(e *audit.Event, profile string) []policy.Access {
	return AppendAccesses(nil, e, profile)
}

// AppendAccesses is Accesses appending to dst, for callers that reuse a
// buffer across records.
func AppendAccesses(dst []policy.Access, e *audit.Event, profile string) []policy.Access {
	return Router{Name: profile}.AppendAccesses(dst, e)
}

// AppendAccesses is the package's AppendAccesses with peers that are null-
// children of r.Name routed as r routes them.
func (r Router) AppendAccesses(dst []policy.Access, e *audit.Event) []policy.Access {
	switch e.Mode {
	case audit.ModeStatus, audit.ModeHint, audit.ModeError:
		return dst
	}
	if Optional(e) || LabelNotFound(e) || DisconnectedPath(e) || !plainWords(e) {
		return dst
	}
	op, class := e.Operation, e.Class
	switch {
	case op == "exec" && strings.HasPrefix(e.Name, "/"):
		// The logged target is complain mode's null- profile: not part of
		// the access.
		return append(dst, policy.Access{Class: policy.ClassFile, Path: e.Name, Perms: "x"})

	case op == "capable" || e.Capname != "" || class == "cap":
		name := e.Capname
		if name == "" {
			name = e.Name
		}
		name = strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "CAP_"))
		if !isWord(name) {
			return dst
		}
		return append(dst, policy.Access{Class: policy.ClassCapability, Capability: name})

	case op == "change_onexec" || op == "change_profile":
		target := firstNonEmpty(e.Target, e.Name)
		if target == "" {
			return dst
		}
		return append(dst, policy.Access{Class: policy.ClassChangeProfile, Target: target})

	case op == "signal" || class == "signal":
		acc := mask(e)
		if e.Signal == "" || acc == "" {
			return dst
		}
		return append(dst, policy.Access{Class: policy.ClassSignal, Access: strings.Fields(acc), Signal: e.Signal,
			Peer: peerAs(firstNonEmpty(e.Peer, e.PeerProfile), r)})

	case op == "ptrace" || class == "ptrace":
		acc := mask(e)
		if acc == "" {
			return dst
		}
		return append(dst, policy.Access{Class: policy.ClassPtrace, Access: strings.Fields(acc),
			Peer: peerAs(firstNonEmpty(e.Peer, e.PeerProfile), r)})

	case strings.HasPrefix(op, "dbus_") || e.Bus != "":
		acc := mask(e)
		if acc == "" {
			return dst
		}
		a := policy.Access{Class: policy.ClassDbus, Access: strings.Fields(acc), Bus: e.Bus}
		if acc == "bind" {
			a.PeerName = e.Name
		} else if acc != "eavesdrop" {
			a.DbusPath, a.Interface, a.Member = e.Path, e.Interface, e.Member
			if a.Member == "" {
				a.Member = extra(e, "method")
			}
			a.Peer = peerAs(firstNonEmpty(e.PeerLabel, e.PeerProfile), r)
		}
		return append(dst, a)

	case class == "mount" || op == "mount" || op == "umount" || op == "remount" || op == "pivotroot":
		return appendMount(dst, e)

	case class == "posix_mqueue" || class == "sysv_mqueue" || class == "io_uring" || class == "userns" || class == "namespace":
		acc := mask(e)
		if acc == "" {
			return dst
		}
		a := policy.Access{Class: policy.Class(class), Access: strings.Fields(acc)}
		switch {
		case strings.HasSuffix(class, "_mqueue"):
			a.Class = policy.ClassMqueue
			a.SockType = strings.TrimSuffix(class, "_mqueue")
			a.Path = e.Name
			// olabel=: the label of the queue's owner, a rule's label=.
			a.Peer = peerAs(extra(e, "olabel"), r)
		case class == "namespace":
			a.Class = policy.ClassUserns
		case class == "io_uring":
			// tcontext=: the credentials override_creds takes on, a
			// rule's label=.
			a.Peer = peerAs(extra(e, "tcontext"), r)
		}
		if a.Class == policy.ClassUserns {
			// The kernel names the operation ("userns_create"); the rule's
			// access word is "create".
			for i, w := range a.Access {
				a.Access[i] = strings.TrimPrefix(w, "userns_")
			}
		}
		return append(dst, a)

	case e.Family == "unix" && (class == "net" || class == "unix") && (e.Addr != "" || e.PeerAddr != ""):
		if e.SockType != "" && !isWord(e.SockType) {
			return dst
		}
		return append(dst, policy.Access{Class: policy.ClassUnix, Access: strings.Fields(mask(e)), SockType: e.SockType,
			Path: noneEmpty(e.Addr), PeerAddr: noneEmpty(e.PeerAddr)})

	case e.Family != "":
		typ := e.SockType
		if strings.HasPrefix(typ, "unknown") {
			typ = ""
		}
		if !isWord(e.Family) || (typ != "" && !isWord(typ)) {
			return dst
		}
		a := policy.Access{Class: policy.ClassNetwork, Family: e.Family, SockType: typ}
		if e.Family == "inet" || e.Family == "inet6" {
			// Fine-grained inet mediation names the address asked
			// about: saddr=/src= the local one, daddr=/dest= the peer's.
			a.Path, a.Port = netAddr(extra(e, "saddr"), extra(e, "src"))
			a.PeerAddr, a.PeerPort = netAddr(extra(e, "daddr"), extra(e, "dest"))
		}
		return append(dst, a)

	case strings.HasPrefix(e.Name, "/"):
		return appendFile(dst, e)
	}
	return dst
}

// netAddr is an inet address and port from a record, each kept only when
// it is what the kernel prints (hex digits, '.' and ':'; decimal digits).
func netAddr(ip, port string) (string, string) {
	for i := 0; i < len(ip); i++ {
		if c := ip[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == '.' || c == ':') {
			ip = ""
			break
		}
	}
	if len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		port = ""
	}
	return ip, port
}

// plainWords reports whether the record's mask and signal are plain words:
// they go into rules as they are, so a record holding anything else (a
// forged syslog line) is refused.
func plainWords(e *audit.Event) bool {
	return wordsOnly(mask(e)) && (wordsOnly(e.Signal) || realtimeSignal(e.Signal))
}

// realtimeSignal reports whether s is the kernel's name of a real-time
// signal, rtmin+0 to rtmin+32, as it logs them and as signal rules write
// them.
func realtimeSignal(s string) bool {
	n, ok := strings.CutPrefix(s, "rtmin+")
	if !ok || n == "" || len(n) > 2 || (len(n) == 2 && n[0] == '0') {
		return false
	}
	v := 0
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
		v = v*10 + int(n[i]-'0')
	}
	return v <= 32
}

// appendMount is the access of a mount, umount, remount or pivot_root
// record: the mount point (or new root) in Path, the source (or the old
// root's place) in Target.
func appendMount(dst []policy.Access, e *audit.Event) []policy.Access {
	if e.Name == "" {
		return dst
	}
	a := policy.Access{Class: policy.ClassMount, Path: e.Name, Fstype: e.Fstype}
	for _, f := range strings.Split(e.Flags, ",") {
		if f = strings.TrimSpace(f); f != "" {
			a.Flags = append(a.Flags, f)
		}
	}
	switch e.Operation {
	case "umount":
		a.Class = policy.ClassUmount
	case "pivotroot":
		a.Class = policy.ClassPivotRoot
		a.Target = e.SrcName
	default:
		a.Target = e.SrcName
		for _, f := range a.Flags {
			if f == "remount" {
				a.Class = policy.ClassRemount
			}
		}
	}
	return append(dst, a)
}

// appendFile is the accesses of a file record: a hard link's (the link's
// name, its target) and the file permissions it asks for besides.
func appendFile(dst []policy.Access, e *audit.Event) []policy.Access {
	m := mask(e)
	if u, o, ok := strings.Cut(m, "::"); ok {
		// 2.6-era kernels wrote file masks as OWNER::OTHER: the part a
		// permission is in says whether the task owned the file.
		dst = appendFilePerms(dst, e, u, true)
		return appendFilePerms(dst, e, o, false)
	}
	return appendFilePerms(dst, e, m, e.FSUID != audit.Unset && e.FSUID == e.OUID)
}

// appendFilePerms appends the accesses of file mask m, owner or not.
func appendFilePerms(dst []policy.Access, e *audit.Event, m string, owner bool) []policy.Access {
	if op := e.Operation; (op == "link" || op == "inode_link") && (e.Target != "" || e.Name2 != "") && strings.Contains(m, "l") {
		dst = append(dst, policy.Access{Class: policy.ClassLink, Path: e.Name, Target: firstNonEmpty(e.Target, e.Name2), Perms: "l", Owner: owner})
		m = strings.ReplaceAll(m, "l", "")
	}
	if perms := filePerms(m); perms != "" {
		dst = append(dst, policy.Access{Class: policy.ClassFile, Path: e.Name, Perms: perms, Owner: owner})
	}
	return dst
}

// mask is the permissions the record asks for: what was denied when the
// kernel said (enforce mode), else what was requested.
func mask(e *audit.Event) string {
	if e.DeniedMask != "" {
		return e.DeniedMask
	}
	return e.RequestedMask
}

// filePerms turns a kernel file mask into rule permissions: c (create) and
// d (delete) become w, a is dropped when w is there, x is an exec's job.
// The result is one of permSets' strings: no allocation per record.
func filePerms(m string) string {
	return permSets[permBits(m)]
}

// permBits are the permissions of a kernel file mask (or of rule
// permissions) as bits of permSets' order, r w a l k m, with w covering a.
func permBits(m string) uint8 {
	var bits uint8
	for i := 0; i < len(m); i++ {
		switch m[i] {
		case 'r':
			bits |= 1
		case 'w', 'c', 'd':
			bits |= 2
		case 'a':
			bits |= 4
		case 'l':
			bits |= 8
		case 'k':
			bits |= 16
		case 'm':
			bits |= 32
		}
	}
	return unitePerms(bits, 0)
}

// unitePerms is the union of two sets of permission bits (w covers a).
func unitePerms(a, b uint8) uint8 {
	bits := a | b
	if bits&2 != 0 {
		bits &^= 4 // w covers a
	}
	return bits
}

// permSets are the permission strings by filePerms' bits, in canonical
// order (r w a l k m).
var permSets = func() (out [64]string) {
	for bits := range out {
		for i, c := range "rwalkm" {
			if bits&(1<<i) != 0 {
				out[bits] += string(c)
			}
		}
	}
	return out
}()

// mergePerms is the union of two permission strings in canonical order.
func mergePerms(a, b string) string {
	return permSets[unitePerms(permBits(a), permBits(b))]
}

func extra(e *audit.Event, key string) string {
	for _, kv := range e.Extra {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func noneEmpty(s string) string {
	if s == "none" {
		return ""
	}
	return s
}

// wordsOnly reports whether s is empty or space-separated plain words
// (letters, digits, '_', and the ':' of old file masks).
func wordsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ':' || c == ' ') {
			return false
		}
	}
	return true
}

// isWord reports whether s is a plain keyword (capability, family or type
// name) that can be written as is.
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
