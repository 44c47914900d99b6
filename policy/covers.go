package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aa-flow/aa-flow/internal/aare"
	"github.com/aa-flow/aa-flow/profiles"
)

// Matcher decides whether single rules cover accesses. It compiles each glob
// once and keeps the compiled globs in a bounded cache; it is safe for
// concurrent use. The zero value is not usable: call NewMatcher.
type Matcher struct {
	vars  profiles.Vars
	paths *aare.Cache // path patterns as written -> compiled
	names *aare.Cache // label and name patterns as written -> compiled
}

// matcherCacheSize bounds how many compiled globs a Matcher keeps.
const matcherCacheSize = 4096

// NewMatcher returns a Matcher expanding @{VAR} with vars (may be nil).
// Its caches are keyed by the pattern as written, so a rule's variables are
// expanded once, not on every question.
func NewMatcher(vars profiles.Vars) *Matcher {
	m := &Matcher{vars: vars}
	m.paths = aare.NewCacheFunc(matcherCacheSize, m.compilePath)
	m.names = aare.NewCacheFunc(matcherCacheSize, m.compileName)
	return m
}

// compilePath compiles a path pattern: "//" collapses.
func (m *Matcher) compilePath(pattern string) (*aare.Glob, error) {
	exp, err := m.vars.Expand(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return aare.Compile(exp)
}

// compileName compiles a label or name pattern: "//" separates a profile
// from its child and is kept.
func (m *Matcher) compileName(pattern string) (*aare.Glob, error) {
	exp, err := m.vars.ExpandLabel(pattern)
	if err != nil {
		return nil, fmt.Errorf("pattern %q: %w", pattern, err)
	}
	return aare.CompileName(exp)
}

// RuleCovers reports whether rule, on its own, allows the access a: the
// rule's class, patterns, permissions and conditions include it, owner and
// other qualifiers respected. A deny rule allows nothing and returns false
// (RuleMatches says whether it applies). A rule or condition the matcher
// does not understand returns false, never true.
//
// It compiles the rule's globs on every call; to ask many questions build a
// Matcher (or a Policy) once.
func RuleCovers(rule profiles.Node, a Access, vars profiles.Vars) bool {
	return NewMatcher(vars).RuleCovers(rule, a)
}

// RuleCovers is the package-level RuleCovers with the matcher's variables
// and glob cache. A file rule granting l answers for the link's name only:
// the subset test it implies needs the whole policy (Policy.Covers does it).
func (m *Matcher) RuleCovers(rule profiles.Node, a Access) bool {
	if q := profiles.RuleQualifiers(rule); q != nil && q.Deny {
		return false
	}
	return m.RuleMatches(rule, a)
}

// RuleMatches reports whether rule applies to a whatever its allow/deny
// qualifier: for a deny rule, whether it refuses a (or a part of a's
// permissions: a deny rule that names any requested permission matches).
func (m *Matcher) RuleMatches(rule profiles.Node, a Access) bool {
	switch r := rule.(type) {
	case *profiles.FileRule:
		return m.fileMatches(r, a)
	case *profiles.LinkRule:
		return m.linkMatches(r, a)
	case *profiles.CapabilityRule:
		return a.Class == ClassCapability && (len(r.Caps) == 0 || slices.Contains(r.Caps, strings.ToLower(a.Capability)))
	case *profiles.NetworkRule:
		return m.networkMatches(r, a)
	case *profiles.ClassRule:
		return m.classMatches(r, a)
	case *profiles.ChangeProfileRule:
		return m.changeProfileMatches(r, a)
	}
	return false
}

// glob matches name against pattern after variable expansion; an error (bad
// pattern, undefined variable) is no match.
func (m *Matcher) glob(pattern, name string) bool {
	g, err := m.paths.Compile(pattern)
	if err != nil {
		return false
	}
	return g.Match(name)
}

// globName matches a label or name (not a path) against a pattern.
func (m *Matcher) globName(pattern, name string) bool {
	g, err := m.names.Compile(pattern)
	if err != nil {
		return false
	}
	return g.Match(name)
}

// ownerApplies reports whether a rule's owner/other qualifier lets it apply
// to the access.
func ownerApplies(q profiles.Qualifiers, a Access) bool {
	if q.Owner && !a.Owner {
		return false
	}
	if q.Other && a.Owner {
		return false
	}
	return true
}

// normPerms canonicalises requested file permissions: c (create) and d
// (delete) are writes.
func normPerms(p string) string {
	if !strings.ContainsAny(p, "cd") && len(p) <= 1 {
		return p
	}
	var buf [16]byte
	out := buf[:0]
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == 'c' || c == 'd' {
			c = 'w'
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return string(out)
}

// RulePerms returns the letters a file rule grants (exec as 'x'). An exec
// mode that inherits (ix, pix, cix, Pix, Cix) also grants m, as
// apparmor_parser compiles it: the same profile maps what it runs. On a deny
// rule, x refuses only x.
func RulePerms(r *profiles.FileRule) string {
	p := normPerms(r.Perms)
	if r.Exec != "" {
		p += "x"
		if !r.Q.Deny && strings.ContainsRune(r.Exec, 'i') && !strings.ContainsRune(p, 'm') {
			p += "m"
		}
	}
	return p
}

// permsInclude reports whether the granted letters include every requested
// letter; a request for a (append) is met by w.
func permsInclude(granted, requested string) bool {
	for _, c := range requested {
		if strings.ContainsRune(granted, c) {
			continue
		}
		if c == 'a' && strings.ContainsRune(granted, 'w') {
			continue
		}
		return false
	}
	return true
}

// permsIntersect reports whether a deny rule's letters take away any of the
// requested ones (deny w also denies a).
func permsIntersect(denied, requested string) bool {
	for _, c := range requested {
		if strings.ContainsRune(denied, c) || (c == 'a' && strings.ContainsRune(denied, 'w')) {
			return true
		}
	}
	return false
}

func (m *Matcher) fileMatches(r *profiles.FileRule, a Access) bool {
	if a.Class != ClassFile && a.Class != ClassLink {
		return false
	}
	if !ownerApplies(r.Q, a) {
		return false
	}
	req := normPerms(a.Perms)
	if a.Class == ClassLink && req == "" {
		req = "l"
	}
	if req == "" {
		return false
	}
	if r.Path == "" { // bare `file,`: every path, every permission but exec transitions
		if r.Q.Deny {
			return true
		}
		return !strings.ContainsRune(req, 'x') || a.Target == ""
	}
	if !m.glob(r.Path, a.Path) {
		return false
	}
	granted := RulePerms(r)
	if r.Q.Deny {
		return permsIntersect(granted, req)
	}
	if !permsInclude(granted, req) {
		return false
	}
	if strings.ContainsRune(req, 'x') && !m.execTargetOK(r, a) {
		return false
	}
	return true
}

// execTargetOK checks an exec access's reported target against a rule with
// an explicit transition target (px/cx -> TARGET). Without a reported
// target, or a rule without one, any exec mode covers the exec.
func (m *Matcher) execTargetOK(r *profiles.FileRule, a Access) bool {
	if a.Target == "" || r.Target == "" {
		return true
	}
	if m.globName(r.Target, a.Target) {
		return true
	}
	// cx -> child is reported as parent//child.
	if i := strings.LastIndex(a.Target, "//"); i >= 0 && strings.ContainsAny(r.Exec, "cC") {
		return m.globName(r.Target, a.Target[i+2:])
	}
	return false
}

func (m *Matcher) linkMatches(r *profiles.LinkRule, a Access) bool {
	if a.Class != ClassLink && !(a.Class == ClassFile && strings.ContainsRune(a.Perms, 'l')) {
		return false
	}
	if !ownerApplies(r.Q, a) {
		return false
	}
	if !m.glob(r.Path, a.Path) {
		return false
	}
	return a.Target == "" || m.glob(r.Target, a.Target)
}

// protocolNumber returns the number the kernel logs for a protocol name
// used in network rules, "" for an unknown name.
func protocolNumber(name string) string {
	switch name {
	case "ip":
		return "0"
	case "icmp":
		return "1"
	case "igmp":
		return "2"
	case "tcp":
		return "6"
	case "udp":
		return "17"
	case "ipv6":
		return "41"
	case "gre":
		return "47"
	case "esp":
		return "50"
	case "ah":
		return "51"
	case "icmpv6":
		return "58"
	case "sctp":
		return "132"
	case "udplite":
		return "136"
	case "raw":
		return "255"
	}
	return ""
}

func sameProtocol(rule, got string) bool {
	if got == "" {
		return false
	}
	rule, got = strings.ToLower(rule), strings.ToLower(got)
	if rule == got {
		return true
	}
	n := protocolNumber(rule)
	return (n != "" && n == got) || (protocolNumber(got) != "" && protocolNumber(got) == rule)
}

func (m *Matcher) networkMatches(r *profiles.NetworkRule, a Access) bool {
	if a.Class != ClassNetwork {
		return false
	}
	if !netConds(r.Conds, a.Path, a.Port) || !netConds(r.Peer, a.PeerAddr, a.PeerPort) {
		return false
	}
	if r.Family != "" && r.Family != a.Family {
		return false
	}
	if r.Type != "" && r.Type != a.SockType {
		// "network inet tcp," names a protocol where a type is expected by
		// some writers; the parser may have put it in Type.
		if !sameProtocol(r.Type, a.Protocol) {
			return false
		}
	}
	if r.Protocol != "" && !sameProtocol(r.Protocol, a.Protocol) {
		return false
	}
	if len(r.Access) > 0 && !accessIncluded(r.Access, a.Access, nil) {
		return false
	}
	return true
}

// netConds reports whether a network rule's ip= and port= conditions (its
// own or those in peer=(...)) allow the address and port: each must be
// named by the access and be one of the values. Any other condition (a
// range, a label) is not understood and never grants.
func netConds(conds []profiles.Cond, ip, port string) bool {
	for _, c := range conds {
		var v string
		switch c.Key {
		case "ip":
			v = ip
		case "port":
			v = port
		default:
			return false
		}
		if c.In || v == "" || !slices.Contains(c.Values, v) {
			return false
		}
	}
	return true
}

// accessIncluded reports whether every requested access word is granted;
// aliases maps short forms (r, w) to the words they stand for. An empty
// request asks for nothing in particular and is included.
func accessIncluded(granted, requested []string, aliases map[string][]string) bool {
	set := map[string]bool{}
	for _, g := range granted {
		g = strings.ToLower(g)
		set[g] = true
		for _, x := range aliases[g] {
			set[x] = true
		}
	}
	for _, r := range requested {
		r = strings.ToLower(r)
		if set[r] {
			continue
		}
		// a request may itself be a short form: every word it stands for
		// must be granted.
		words, ok := aliases[r]
		if !ok || len(words) == 0 {
			return false
		}
		for _, w := range words {
			if !set[w] {
				return false
			}
		}
	}
	return true
}

// AccessIncluded reports whether a rule of class granting the access words
// granted allows every requested word, the class's short forms (r, w, rw)
// understood.
func AccessIncluded(class Class, granted, requested []string) bool {
	return accessIncluded(granted, requested, classAliases(class))
}

// classAliases returns a class's access word aliases, from apparmor.d(5).
func classAliases(class Class) map[string][]string {
	switch class {
	case ClassSignal, ClassDbus:
		return map[string][]string{"r": {"receive"}, "w": {"send"}, "rw": {"send", "receive"}}
	case ClassPtrace:
		return map[string][]string{"r": {"read"}, "w": {"trace"}, "rw": {"read", "trace"}}
	case ClassUnix:
		return map[string][]string{
			"r":  {"receive", "getattr", "getopt"},
			"w":  {"create", "connect", "send", "setattr", "setopt"},
			"rw": {"receive", "getattr", "getopt", "create", "connect", "send", "setattr", "setopt"},
		}
	case ClassMqueue:
		return map[string][]string{
			"r":  {"read", "getattr"},
			"w":  {"write", "create", "setattr", "delete"},
			"rw": {"read", "getattr", "write", "create", "setattr", "delete"},
		}
	}
	return nil
}

// normSignal strips a SIG prefix and lowercases a signal name.
func normSignal(s string) string {
	s = strings.ToLower(s)
	return strings.TrimPrefix(s, "sig")
}

func (m *Matcher) classMatches(r *profiles.ClassRule, a Access) bool {
	if Class(r.Class) != a.Class {
		return false
	}
	if len(r.Access) > 0 && !accessIncluded(r.Access, a.Access, classAliases(Class(r.Class))) {
		return false
	}
	for _, c := range r.Peer {
		if !m.peerCondOK(Class(r.Class), c, a) {
			return false
		}
	}
	for _, c := range r.Conds {
		if !m.condOK(Class(r.Class), c, a) {
			return false
		}
	}
	switch Class(r.Class) {
	case ClassMount:
		// mount [conds] [SOURCE] [-> MOUNTPOINT]; the access has the mount
		// point in Path and the source in Target
		if len(r.Args) > 1 {
			return false
		}
		if len(r.Args) == 1 && !m.glob(r.Args[0], a.Target) {
			return false
		}
		if r.Target != "" && !m.glob(r.Target, a.Path) {
			return false
		}
	case ClassUmount, ClassRemount:
		if len(r.Args) > 1 || r.Target != "" {
			return false
		}
		if len(r.Args) == 1 && !m.glob(r.Args[0], a.Path) {
			return false
		}
	case ClassPivotRoot:
		// pivot_root [oldroot=OLD] [NEWROOT] [-> PROFILE]
		if len(r.Args) > 1 || r.Target != "" {
			return false
		}
		if len(r.Args) == 1 && !m.glob(r.Args[0], a.Path) {
			return false
		}
	case ClassMqueue:
		if len(r.Args) > 1 || r.Target != "" {
			return false
		}
		if len(r.Args) == 1 && !m.glob(r.Args[0], a.Path) {
			return false
		}
	default:
		if len(r.Args) > 0 || r.Target != "" {
			return false
		}
	}
	return true
}

// valuesMatch reports whether got, a label or name, matches one of the
// patterns.
func (m *Matcher) valuesMatch(patterns []string, got string) bool {
	for _, p := range patterns {
		if m.globName(p, got) {
			return true
		}
	}
	return false
}

func (m *Matcher) peerCondOK(class Class, c profiles.Cond, a Access) bool {
	switch {
	case c.Key == "label" || c.Key == "peer":
		return a.Peer != "" && m.valuesMatch(c.Values, a.Peer)
	case class == ClassDbus && c.Key == "name":
		return a.PeerName != "" && m.valuesMatch(c.Values, a.PeerName)
	case class == ClassUnix && c.Key == "addr":
		return a.PeerAddr != "" && m.valuesMatch(c.Values, a.PeerAddr)
	}
	return false
}

func (m *Matcher) condOK(class Class, c profiles.Cond, a Access) bool {
	switch class {
	case ClassSignal:
		switch c.Key {
		case "set":
			for _, v := range c.Values {
				if normSignal(v) == normSignal(a.Signal) {
					return true
				}
			}
			return false
		case "peer":
			return a.Peer != "" && m.valuesMatch(c.Values, a.Peer)
		}
	case ClassPtrace:
		if c.Key == "peer" {
			return a.Peer != "" && m.valuesMatch(c.Values, a.Peer)
		}
	case ClassUnix:
		switch c.Key {
		case "type":
			return slices.Contains(c.Values, a.SockType)
		case "addr":
			if a.Path == "" || UnixPathAddr(a.Path) {
				return slices.Contains(c.Values, UnixAddrNone)
			}
			return m.valuesMatch(c.Values, a.Path)
		case "peer":
			return a.Peer != "" && m.valuesMatch(c.Values, a.Peer)
		}
	case ClassDbus:
		switch c.Key {
		case "bus":
			return slices.Contains(c.Values, a.Bus)
		case "path":
			return a.DbusPath != "" && m.valuesMatch(c.Values, a.DbusPath)
		case "interface":
			return a.Interface != "" && m.valuesMatch(c.Values, a.Interface)
		case "member":
			return a.Member != "" && m.valuesMatch(c.Values, a.Member)
		case "name":
			return a.PeerName != "" && m.valuesMatch(c.Values, a.PeerName)
		case "peer":
			return a.Peer != "" && m.valuesMatch(c.Values, a.Peer)
		}
	case ClassMount, ClassRemount:
		switch c.Key {
		case "fstype", "vfstype":
			return a.Fstype != "" && m.valuesMatch(c.Values, a.Fstype)
		case "options":
			return optionsOK(c, a.Flags)
		}
	case ClassMqueue, ClassIOUring:
		switch c.Key {
		case "type":
			return a.Class == ClassMqueue && slices.Contains(c.Values, a.SockType)
		case "label":
			return a.Peer != "" && m.valuesMatch(c.Values, a.Peer)
		}
	}
	return false // a condition we do not understand never grants
}

// optionsOK checks mount flags: options=(...) must equal the flags,
// options in (...) must include them.
func optionsOK(c profiles.Cond, flags []string) bool {
	want := map[string]bool{}
	for _, v := range c.Values {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				want[f] = true
			}
		}
	}
	got := map[string]bool{}
	for _, f := range flags {
		got[f] = true
		if !want[f] {
			return false
		}
	}
	if c.In {
		return true
	}
	return len(got) == len(want)
}

func (m *Matcher) changeProfileMatches(r *profiles.ChangeProfileRule, a Access) bool {
	if a.Class != ClassChangeProfile {
		return false
	}
	if r.Exec != "" && (a.Path == "" || !m.glob(r.Exec, a.Path)) {
		return false
	}
	if len(r.Targets) == 0 {
		return true
	}
	return a.Target != "" && m.valuesMatch(r.Targets, a.Target)
}

// UnixAddrNone is a unix rule's address for a socket with none (addr=none):
// an unnamed one (socketpair, a client before it connects), and, as the
// kernel judges unix rules, one bound to a filesystem path.
const UnixAddrNone = "none"

// UnixPathAddr reports whether a unix socket address (a record's addr= or
// peer_addr=) is a filesystem path. No unix rule can name one
// (apparmor_parser takes only @abstract names and none). A kernel with
// fine-grained unix mediation (Debian's 7.3 with parser 4.1's policy,
// probed) judges a path socket's operations by the rule's type and
// access, not its address: a rule with addr=none (or any abstract name)
// allowed bind, listen, accept, connect, send and receive on
// /tmp/uprobe/sock, and a rule without the access word refused it. So a
// rule's addr=none covers such an access (condOK): the narrowest rule the
// parser can write for it.
func UnixPathAddr(addr string) bool {
	return strings.HasPrefix(addr, "/")
}
