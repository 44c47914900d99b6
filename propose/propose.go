package propose

import (
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// ProposeOptions tune Propose. The zero value proposes literal rules for
// everything, with nothing treated as already allowed.
type ProposeOptions struct {
	// Covers reports whether the current policy of profile (the full
	// kernel name: "svc", "svc//hat") already allows the access. Nil means
	// nothing is allowed yet.
	Covers func(profile string, a policy.Access) bool
	// ProfileFor reports whether a profile exists for an executable, so
	// that exec transitions to it use px. Nil: never.
	ProfileFor func(path string) bool
	// Setuid reports whether an executable is setuid or setgid, so that
	// transitions to it scrub the environment (Px, Cx). Nil: never.
	Setuid func(path string) bool
	// ChildExec makes exec transitions without a profile of their own go to
	// a child profile (cx) instead of inheriting (ix).
	ChildExec bool
	// Vars are the variables the profile can use (after its includes), by
	// name without @{ }. Generalisation writes @{PROC}, @{pid}, @{HOME},
	// @{uid} only when they are defined; otherwise it writes plain globs.
	Vars profiles.
		// SiblingThreshold is how many files of one directory with the same
		// permissions become dir/* (0: 8; negative: never).
		Vars

	SiblingThreshold int
	// Severity rates rules; nil rates everything 0 (unknown).
	Severity Rater
	// Abstractions are candidate abstractions to suggest.
	Abstractions []AbstractionCandidate
	// Render writes a rule as profile text (without indentation). Nil uses
	// RenderRule.
	Render func(profiles.Node) (string, error)
	// Now stamps the proposal; time.Now when zero.
	Now time.Time
}

// Rater rates the danger of a rule on severity.db's 0..10 scale.
type Rater interface {
	// Rule returns the severity of a rule, -1 when unknown.
	Rule(n profiles.Node) int
}

// Propose turns audit events into a Proposal for profileName in file: the
// rules the profile needs that it does not have yet. Events for other
// profiles are counted and ignored. file may be nil (an empty profile).
func Propose(file *profiles.File, profileName string, events []*audit.Event, opts ProposeOptions) (*Proposal, error) {
	p := NewProposer(file, profileName, opts)
	for _, e := range events {
		p.Add(e)
	}
	return p.Proposal()
}

// ProposeSeq is Propose over an iterator of events (a reader's stream),
// without holding them all in memory.
func ProposeSeq(file *profiles.File, profileName string, events iter.Seq[*audit.Event], opts ProposeOptions) (*Proposal, error) {
	p := NewProposer(file, profileName, opts)
	for e := range events {
		p.Add(e)
	}
	return p.Proposal()
}

// Proposer builds a Proposal from a stream of events (for audit.Read's
// callback): Add each event, then call Proposal once.
type Proposer struct {
	file *profiles.File
	name string
	opts ProposeOptions

	counts   Counts
	aggs     map[aggKey]*agg
	warnings []string
	// optional is the optional requests already noted in warnings.
	optional map[string]bool
	// permCache maps kernel masks to rule permissions (few distinct ones).
	permCache map[string]string
	order     []aggKey // keys in first-seen order, for stable output
	// transient: nothing outlives the record being added (AccessReader),
	// so nothing is copied.
	transient bool
}

// NewProposer starts a proposal for profileName.
func NewProposer(file *profiles.File, profileName string, opts ProposeOptions) *Proposer {
	if opts.SiblingThreshold == 0 {
		opts.SiblingThreshold = 8
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	return &Proposer{file: file, name: profileName, opts: opts, aggs: map[aggKey]*agg{}, permCache: map[string]string{}}
}

// aggKey identifies one distinct access: its (sub)profile, kind and up to
// two distinguishing values.
type aggKey struct{ prof, kind, k1, k2 string }

// agg is one distinct access, with everything merged from the records
// that asked for it.
type agg struct {
	profile string // full kernel name of the (sub)profile it belongs in
	a       query  // Perms/Access merged
	// owner stays true while every file record had fsuid == ouid.
	owner bool
	ev    Evidence
	// signals/access sets merged for signal, ptrace, unix, dbus.
	set map[string]*Evidence
}

// Add feeds one event. It keeps neither e nor its strings: what the
// proposal needs from it is copied, so e may be reused (audit.Read's
// events) and a long log's line memory is not held by a few rules.
func (p *Proposer) Add(e *audit.Event) {
	p.counts.Read++
	prof, ok := p.route(e.ProfileName())
	if !ok {
		p.counts.Other++
		return
	}
	switch e.Mode {
	case audit.ModeStatus, audit.ModeHint, audit.ModeError:
		p.counts.Ignored++
		return
	}
	p.counts.ForProfile++
	if Optional(e) {
		// The kernel asked in passing and copes with a refusal: no rule.
		p.counts.Ignored++
		p.counts.Optional++
		p.noteOptional(e)
		return
	}
	if !wordsOnly(mask(e)) || !wordsOnly(e.Signal) {
		// Access words go into rules as they are: a record whose mask
		// or signal is not plain words (a forged syslog line) is refused.
		p.counts.Unwritable++
		if len(p.warnings) < maxWarnings {
			p.warnings = append(p.warnings, fmt.Sprintf("%s: access %q, signal %q are not plain words; record ignored", eventSource(e), mask(e), e.Signal))
		}
		return
	}
	if !p.addAccess(prof, e) {
		p.counts.Ignored++
	}
}

// route maps the profile a record names to the (sub)profile its rules go
// into: the profile itself, a hat or child, with complain mode's null-
// children folded back into their parent (they ran under an inherited
// exec the parent will grant).
func (p *Proposer) route(label string) (string, bool) {
	if label == "" {
		return "", false
	}
	if label == p.name {
		return label, true
	}
	if !strings.HasPrefix(label, p.name) || !strings.HasPrefix(label[len(p.name):], "//") {
		return "", false
	}
	parts := strings.Split(label[len(p.name):], "//")
	out := p.name
	for _, part := range parts[1:] {
		if strings.HasPrefix(part, "null-/") {
			// complain mode's child for an exec of /path: its accesses
			// run under the exec rule the parent will grant (ix).
			break
		}
		out += "//" + part
	}
	return out, true
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

// noteOptional says once per request why an optional one got no rule.
func (p *Proposer) noteOptional(e *audit.Event) {
	what := e.Operation
	if e.Capname != "" {
		what = "capability " + e.Capname
	}
	if !wordsOnly(what) || p.optional[what] {
		return
	}
	if p.optional == nil {
		p.optional = map[string]bool{}
	}
	p.optional[strings.Clone(what)] = true
	if len(p.warnings) < maxWarnings {
		msg := fmt.Sprintf("%s was asked for as optional (info=%q); no rule: enforce mode refuses it silently and the program copes", what, OptionalInfo)
		if src := eventSource(e); src != "" {
			msg = src + ": " + msg
		}
		p.warnings = append(p.warnings, msg)
	}
}

// peer is the label a record's peer has from the profile's point of view:
// complain mode's null- children of the profile (or of its hats) become
// the (sub)profile they are folded into, as their own records are, since
// once the parent grants the exec (ix) the child runs as the parent.
// Other labels stay as they are.
func (p *Proposer) peer(label string) string {
	if !strings.Contains(label, "//null-") {
		return label
	}
	if r, ok := p.route(label); ok {
		return r
	}
	return label
}

func (p *Proposer) put(kind, k1, k2 string, prof string, a query, e *audit.Event) *agg {
	key := aggKey{prof, kind, k1, k2}
	g := p.aggs[key]
	if g == nil {
		if !p.transient {
			// A new access: the strings kept are copies (see Add).
			key = aggKey{strings.Clone(prof), kind, strings.Clone(k1), strings.Clone(k2)}
			a = a.clone()
		}
		g = &agg{profile: key.prof, a: a, owner: true}
		p.aggs[key] = g
		p.order = append(p.order, key)
	}
	g.ev.add(e)
	return g
}

// mask is the permissions the record asks for: what was denied when the
// kernel said (enforce mode), else what was requested.
func mask(e *audit.Event) string {
	if e.DeniedMask != "" {
		return e.DeniedMask
	}
	return e.RequestedMask
}

// addAccess turns one record into an access and merges it; false when the
// record carries nothing a rule can grant.
func (p *Proposer) addAccess(prof string, e *audit.Event) bool {
	op := e.Operation
	class := e.Class
	switch {
	case op == "exec" && strings.HasPrefix(e.Name, "/"):
		return p.addFile(prof, e)

	case op == "capable" || e.Capname != "" || class == "cap":
		name := e.Capname
		if name == "" {
			name = e.Name
		}
		name = strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "CAP_"))
		if !isWord(name) {
			return false
		}
		p.put("cap", name, "", prof, query{Class: "capability", Capability: name}, e)
		return true

	case op == "change_onexec" || op == "change_profile":
		target := e.Target
		if target == "" {
			target = e.Name
		}
		if target == "" {
			return false
		}
		p.put("cp", target, "", prof, query{Class: "change_profile", Target: target}, e)
		return true

	case op == "signal" || class == "signal":
		peer := p.peer(firstNonEmpty(e.Peer, e.PeerProfile))
		acc := mask(e)
		if e.Signal == "" || acc == "" {
			return false
		}
		g := p.put("sig", acc, peer, prof, query{Class: "signal", Access: acc, Peer: peer}, e)
		addSet(g, e.Signal, e)
		return true

	case op == "ptrace" || class == "ptrace":
		acc := mask(e)
		if acc == "" {
			return false
		}
		peer := p.peer(firstNonEmpty(e.Peer, e.PeerProfile))
		p.put("ptrace", peer, "", prof, query{Class: "ptrace", Peer: peer}, e).addAll(strings.Fields(acc), e)
		return true

	case strings.HasPrefix(op, "dbus_") || e.Bus != "":
		acc := mask(e)
		if acc == "" {
			return false
		}
		a := query{Class: "dbus", Access: acc, Bus: e.Bus}
		if acc == "bind" {
			a.PeerName = e.Name
		} else if acc != "eavesdrop" {
			a.DbusPath, a.Interface, a.Member = e.Path, e.Interface, e.Member
			if a.Member == "" {
				a.Member = extra(e, "method")
			}
			a.Peer = p.peer(firstNonEmpty(e.PeerLabel, e.PeerProfile))
		}
		p.put("dbus", a.Access+"\x00"+a.Bus+"\x00"+a.DbusPath+"\x00"+a.Interface+"\x00"+a.Member+"\x00"+a.PeerName+"\x00"+a.Peer, "", prof, a, e)
		return true

	case class == "mount" || op == "mount" || op == "umount" || op == "remount" || op == "pivotroot":
		return p.addMount(prof, e)

	case class == "posix_mqueue" || class == "sysv_mqueue" || class == "io_uring" || class == "userns" || class == "namespace":
		acc := mask(e)
		if acc == "" {
			return false
		}
		cl := class
		if strings.HasSuffix(cl, "_mqueue") {
			cl = "mqueue"
		}
		if cl == "namespace" {
			cl = "userns"
		}
		a := query{Class: cl, Access: acc}
		if cl == "mqueue" {
			a.SockType = strings.TrimSuffix(class, "_mqueue")
			a.Path = e.Name
		}
		p.put(cl, a.SockType, a.Path, prof, a, e).addAll(strings.Fields(acc), e)
		return true

	case e.Family == "unix" && (class == "net" || class == "unix") && (e.Addr != "" || e.PeerAddr != ""):
		acc := mask(e)
		if e.SockType != "" && !isWord(e.SockType) {
			return false
		}
		a := query{Class: "unix", SockType: e.SockType, Path: noneEmpty(e.Addr), Target: noneEmpty(e.PeerAddr)}
		p.put("unix", a.SockType+"\x00"+a.Path, a.Target, prof, a, e).addAll(strings.Fields(acc), e)
		return true

	case e.Family != "":
		typ := e.SockType
		if strings.HasPrefix(typ, "unknown") {
			typ = ""
		}
		if !isWord(e.Family) || (typ != "" && !isWord(typ)) {
			return false
		}
		p.put("net", e.Family, typ, prof, query{Class: "network", Family: e.Family, SockType: typ}, e)
		return true

	case strings.HasPrefix(e.Name, "/"):
		return p.addFile(prof, e)
	}
	return false
}

func (p *Proposer) addMount(prof string, e *audit.Event) bool {
	a := query{Class: "mount", Fstype: e.Fstype, Flags: e.Flags}
	switch e.Operation {
	case "umount":
		a.Access = "umount"
		a.Target = e.Name
	case "pivotroot":
		a.Access = "pivot_root"
		a.Target = e.Name
		a.Path = e.SrcName
	default:
		a.Access = "mount"
		a.Path = e.SrcName
		a.Target = e.Name
	}
	if a.Target == "" {
		return false
	}
	p.put("mount", a.Access+"\x00"+a.Fstype+"\x00"+a.Flags+"\x00"+a.Path+"\x00"+a.Target, "", prof, a, e)
	return true
}

func (p *Proposer) addFile(prof string, e *audit.Event) bool {
	name := e.Name
	op := e.Operation
	m := mask(e)
	if op == "exec" {
		g := p.put("exec", name, "", prof, query{Class: "file", Path: name, Perms: "x"}, e)
		if g.a.Target != e.Target {
			g.a.Target = strings.Clone(e.Target)
		}
		g.owner = false
		return true
	}
	if (op == "link" || op == "inode_link") && (e.Target != "" || e.Name2 != "") && strings.Contains(m, "l") {
		target := firstNonEmpty(e.Target, e.Name2)
		g := p.put("link", name, target, prof, query{Class: "file", Path: name, Target: target, Perms: "l"}, e)
		g.owner = g.owner && e.FSUID != audit.Unset && e.FSUID == e.OUID
		m = strings.ReplaceAll(m, "l", "")
		if filePerms(m) == "" {
			return true
		}
	}
	perms, ok := p.permCache[m]
	if !ok {
		perms = strings.Clone(filePerms(m))
		p.permCache[strings.Clone(m)] = perms
	}
	if perms == "" {
		return false
	}
	g := p.put("file", name, "", prof, query{Class: "file", Path: name}, e)
	if g.a.Perms != perms {
		g.a.Perms = mergePerms(g.a.Perms, perms)
	}
	g.owner = g.owner && e.FSUID != audit.Unset && e.FSUID == e.OUID
	return true
}

// filePerms turns a kernel file mask into rule permissions: c (create) and
// d (delete) become w, a is dropped when w is there, x is an exec's job.
func filePerms(m string) string {
	var set [256]bool
	for i := 0; i < len(m); i++ {
		switch c := m[i]; c {
		case 'r', 'w', 'a', 'l', 'k', 'm':
			set[c] = true
		case 'c', 'd':
			set['w'] = true
		}
	}
	var b strings.Builder
	for _, c := range []byte("rwalkm") {
		if set[c] && !(c == 'a' && set['w']) {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// mergePerms is the union of two permission strings in canonical order.
func mergePerms(a, b string) string {
	return filePerms(a + b)
}

func addSet(g *agg, v string, e *audit.Event) {
	if g.set == nil {
		g.set = map[string]*Evidence{}
	}
	ev := g.set[v]
	if ev == nil {
		ev = &Evidence{}
		g.set[strings.Clone(v)] = ev
	}
	ev.add(e)
}

func (g *agg) addAll(vs []string, e *audit.Event) {
	for _, v := range vs {
		addSet(g, v, e)
	}
}

func (g *agg) setList() []string {
	out := make([]string, 0, len(g.set))
	for v := range g.set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
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

// maxWarnings caps the warnings a proposal carries.
const maxWarnings = 100

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

// Proposal finishes the stream: it drops what the policy already allows,
// builds rules, generalises, suggests abstractions, rates and ranks.
func (p *Proposer) Proposal() (*Proposal, error) {
	prop := &Proposal{Profile: p.name, Created: p.opts.Now.UTC(), Warnings: append([]string(nil), p.warnings...)}
	var cands []*candidate
	for _, key := range p.order {
		g := p.aggs[key]
		c, err := p.build(g)
		if c != nil {
			c.queries = g.queries()
			c.sev = p.rate(c.node)
		}
		if err != nil {
			p.counts.Unwritable += g.ev.Count
			prop.Warnings = append(prop.Warnings, err.Error())
			continue
		}
		if c == nil {
			p.counts.Covered += g.ev.Count
			continue
		}
		cands = append(cands, c)
	}
	for _, c := range cands {
		if c.child != nil {
			cands = append(cands, &candidate{profile: c.profile, node: c.child, ev: c.ev, sev: c.sev})
		}
	}
	cands = mergeExec(cands)
	cands = p.generalise(cands)
	cands = append(p.suggestAbstractions(cands), cands...)
	for _, c := range cands {
		r, err := p.finish(c)
		if err != nil {
			prop.Warnings = append(prop.Warnings, err.Error())
			continue
		}
		prop.Rules = append(prop.Rules, r)
	}
	prop.Counts = p.counts
	prop.rank()
	// Abstractions list the rules they cover, now that those have IDs.
	for _, c := range cands {
		if c.rule == nil {
			continue
		}
		for _, cov := range c.covers {
			if cov.rule != nil {
				c.rule.Covers = append(c.rule.Covers, cov.rule.ID)
			}
		}
		sort.Slice(c.rule.Covers, func(i, j int) bool { return idLess(c.rule.Covers[i], c.rule.Covers[j]) })
	}
	return prop, nil
}

// candidate is a rule on its way into the proposal.
type candidate struct {
	profile string
	node    profiles.Node
	// literals are the literal rules a generalised rule replaces.
	literals []profiles.Node
	replaces []string
	general  string // generalisation name
	covers   []*candidate
	ev       Evidence
	sev      int
	// queries are the accesses the rule grants (for abstractions' check).
	queries []query
	// path, perms, owner describe a plain literal file rule (for
	// generalisation); path is empty for every other rule.
	path  string
	perms string
	owner bool
	rule  *Rule
	// child is a child profile an exec rule (cx) needs and the file
	// does not have yet.
	child *profiles.Profile
}

// modeFlags are the mode flags of a (sub)profile (complain, kill, ...), for
// new children to start in the same mode.
func (p *Proposer) modeFlags(profile string) []string {
	if p.file == nil {
		return nil
	}
	pr := p.file.Find(profile)
	for pr == nil && strings.Contains(profile, "//") {
		profile = profile[:strings.LastIndex(profile, "//")]
		pr = p.file.Find(profile)
	}
	if pr == nil {
		return nil
	}
	var out []string
	for _, f := range pr.Flags {
		switch f {
		case "complain", "enforce", "kill", "unconfined", "prompt":
			out = append(out, f)
		}
	}
	return out
}

// idLess orders r2 before r10.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (p *Proposer) covered(profile string, q query) bool {
	return p.opts.Covers != nil && p.opts.Covers(profile, q.access())
}

// uncoveredMembers returns the members of the aggregate's set (signals,
// access words) that the policy does not allow yet; set writes one member
// into a copy of the query.
func (p *Proposer) uncoveredMembers(g *agg, a query, set func(q *query, member string)) []string {
	var need []string
	for _, s := range g.setList() {
		q := a
		set(&q, s)
		if !p.covered(g.profile, q) {
			need = append(need, s)
		}
	}
	return need
}

// peerLabel is the peer=LABEL condition for a peer label from a log, written
// as a literal; none when the record named no peer.
func peerLabel(label string) ([]profiles.Cond, error) {
	if label == "" {
		return nil, nil
	}
	peer, err := escapeLabel(label)
	if err != nil {
		return nil, err
	}
	return []profiles.Cond{{Key: "label", Values: []string{peer}}}, nil
}

// build makes the literal rule for one aggregate, or nil when the policy
// already allows it all.
func (p *Proposer) build(g *agg) (*candidate, error) {
	a := g.a
	a.Owner = g.owner
	c := &candidate{profile: g.profile, ev: g.ev}
	switch a.Class {
	case "file":
		return p.buildFile(g, c)
	case "capability":
		if p.covered(g.profile, a) {
			return nil, nil
		}
		c.node = &profiles.CapabilityRule{Caps: []string{a.Capability}}
	case "network":
		if p.covered(g.profile, a) {
			return nil, nil
		}
		c.node = &profiles.NetworkRule{Family: a.Family, Type: a.SockType}
	case "change_profile":
		if p.covered(g.profile, a) {
			return nil, nil
		}
		t, err := escapeLabel(a.Target)
		if err != nil {
			return nil, err
		}
		c.node = &profiles.ChangeProfileRule{Targets: []string{t}}
	case "signal":
		need := p.uncoveredMembers(g, a, func(q *query, s string) { q.Signal = s })
		if len(need) == 0 {
			return nil, nil
		}
		c.ev = g.evidenceOf(need)
		r := &profiles.ClassRule{Class: "signal", Access: []string{a.Access}, Conds: []profiles.Cond{{Key: "set", Values: need, Paren: true}}}
		var err error
		if r.Peer, err = peerLabel(a.Peer); err != nil {
			return nil, err
		}
		c.node = r
	case "ptrace":
		need := p.uncoveredMembers(g, a, func(q *query, s string) { q.Access = s })
		if len(need) == 0 {
			return nil, nil
		}
		c.ev = g.evidenceOf(need)
		r := &profiles.ClassRule{Class: "ptrace", Access: need}
		var err error
		if r.Peer, err = peerLabel(a.Peer); err != nil {
			return nil, err
		}
		c.node = r
	case "dbus":
		if p.covered(g.profile, a) {
			return nil, nil
		}
		r := &profiles.ClassRule{Class: "dbus", Access: []string{a.Access}}
		for _, kv := range [][2]string{{"bus", a.Bus}, {"path", a.DbusPath}, {"interface", a.Interface}, {"member", a.Member}, {"name", a.PeerName}} {
			if kv[1] == "" {
				continue
			}
			v, err := profiles.EscapeLiteral(kv[1])
			if err != nil {
				return nil, err
			}
			r.Conds = append(r.Conds, profiles.Cond{Key: kv[0], Values: []string{v}})
		}
		var err error
		if r.Peer, err = peerLabel(a.Peer); err != nil {
			return nil, err
		}
		c.node = r
	case "unix":
		need := p.uncoveredMembers(g, a, func(q *query, s string) { q.Access = s })
		if len(need) == 0 {
			return nil, nil
		}
		c.ev = g.evidenceOf(need)
		r := &profiles.ClassRule{Class: "unix", Access: need}
		if a.SockType != "" {
			r.Conds = append(r.Conds, profiles.Cond{Key: "type", Values: []string{a.SockType}})
		}
		if a.Path != "" {
			v, err := profiles.EscapeLiteral(a.Path)
			if err != nil {
				return nil, err
			}
			r.Conds = append(r.Conds, profiles.Cond{Key: "addr", Values: []string{v}})
		}
		if a.Target != "" {
			v, err := profiles.EscapeLiteral(a.Target)
			if err != nil {
				return nil, err
			}
			r.Peer = []profiles.Cond{{Key: "addr", Values: []string{v}}}
		}
		c.node = r
	case "mqueue", "io_uring", "userns":
		if p.covered(g.profile, a) {
			return nil, nil
		}
		r := &profiles.ClassRule{Class: a.Class, Access: g.setList()}
		if a.Class == "mqueue" {
			r.Conds = []profiles.Cond{{Key: "type", Values: []string{a.SockType}}}
			if a.Path != "" {
				v, err := profiles.EscapeLiteral(a.Path)
				if err != nil {
					return nil, err
				}
				r.Args = []string{v}
			}
		}
		c.node = r
	case "mount":
		if p.covered(g.profile, a) {
			return nil, nil
		}
		return c, p.buildMount(a, c)
	default:
		return nil, fmt.Errorf("%s: no rule for class %q", g.ev.Source, a.Class)
	}
	return c, nil
}

func (p *Proposer) buildMount(a query, c *candidate) error {
	src, err := escapeOpt(a.Path)
	if err != nil {
		return err
	}
	dst, err := profiles.EscapeLiteral(a.Target)
	if err != nil {
		return err
	}
	switch a.Access {
	case "umount":
		c.node = &profiles.ClassRule{Class: "umount", Args: []string{dst}}
	case "pivot_root":
		r := &profiles.ClassRule{Class: "pivot_root", Args: []string{dst}}
		if src != "" {
			r.Conds = []profiles.Cond{{Key: "oldroot", Values: []string{src}}}
		}
		c.node = r
	default:
		r := &profiles.ClassRule{Class: "mount"}
		if a.Fstype != "" {
			fs, err := profiles.EscapeLiteral(a.Fstype)
			if err != nil {
				return err
			}
			r.Conds = append(r.Conds, profiles.Cond{Key: "fstype", Values: []string{fs}})
		}
		var flags []string
		for _, f := range strings.Split(a.Flags, ",") {
			if f = strings.TrimSpace(f); f != "" {
				if !isWord(f) {
					return fmt.Errorf("mount flag %q cannot be written", f)
				}
				flags = append(flags, f)
			}
		}
		sort.Strings(flags)
		if len(flags) > 0 {
			r.Conds = append(r.Conds, profiles.Cond{Key: "options", Values: flags, Paren: true})
		}
		if src != "" {
			r.Args = []string{src}
		}
		r.Target = dst
		c.node = r
	}
	return nil
}

func escapeOpt(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return profiles.EscapeLiteral(s)
}

// escapeLabel escapes a profile label from a log (a peer, a change_profile
// target) so that it matches only itself.
func escapeLabel(s string) (string, error) {
	return profiles.EscapeLiteral(s)
}

func (p *Proposer) buildFile(g *agg, c *candidate) (*candidate, error) {
	a := g.a
	a.Owner = g.owner
	lit, err := profiles.EscapeLiteral(a.Path)
	if err != nil {
		return nil, err
	}
	switch {
	case a.Perms == "x": // exec
		mode := p.execMode(a.Path)
		q := a
		if p.covered(g.profile, q) {
			return nil, nil
		}
		c.node = &profiles.FileRule{Path: lit, Perms: "rm", Exec: mode}
		if (mode == "cx" || mode == "Cx") && (p.file == nil || p.file.Find(g.profile+"//"+a.Path) == nil) {
			// cx goes to the child profile named by the program's path;
			// a new one starts empty in the parent's mode, and its rules
			// are learned from its own records.
			c.child = &profiles.Profile{Keyword: "profile", Name: lit, Flags: p.modeFlags(g.profile)}
		}
		return c, nil
	case a.Target != "": // link
		if p.covered(g.profile, a) {
			return nil, nil
		}
		t, err := profiles.EscapeLiteral(a.Target)
		if err != nil {
			return nil, err
		}
		c.node = &profiles.LinkRule{Q: profiles.Qualifiers{Owner: g.owner}, Path: lit, Target: t}
		return c, nil
	}
	// Only the permissions not yet allowed.
	need := a.Perms
	if p.covered(g.profile, query{Class: "file", Path: a.Path, Perms: a.Perms, Owner: g.owner}) {
		return nil, nil
	}
	if p.opts.Covers != nil && len(a.Perms) > 1 {
		var b strings.Builder
		for i := 0; i < len(a.Perms); i++ {
			if !p.covered(g.profile, query{Class: "file", Path: a.Path, Perms: a.Perms[i : i+1], Owner: g.owner}) {
				b.WriteByte(a.Perms[i])
			}
		}
		need = b.String()
	}
	c.node = &profiles.FileRule{Q: profiles.Qualifiers{Owner: g.owner}, Path: lit, Perms: need}
	c.path, c.perms, c.owner = a.Path, need, g.owner
	return c, nil
}

// execMode picks the exec transition for a program: px when it has a
// profile of its own, cx when child profiles were asked for, else ix;
// capitalised (environment scrubbed) when the program is setuid.
func (p *Proposer) execMode(path string) string {
	mode := "ix"
	switch {
	case p.opts.ProfileFor != nil && p.opts.ProfileFor(path):
		mode = "px"
	case p.opts.ChildExec:
		mode = "cx"
	}
	if mode != "ix" && p.opts.Setuid != nil && p.opts.Setuid(path) {
		mode = strings.ToUpper(mode[:1]) + mode[1:]
	}
	return mode
}

// query is one distinct access learned from the records, in the learner's
// terms; access() turns it into the Access that Policy.Covers answers. Fields not used by
// the class are empty. Perms are file permission letters; Access is the
// access word of the other classes ("send", "trace", "bind", ...).
type query struct {
	Class      string // file, capability, network, signal, ptrace, unix, dbus, mount, change_profile, mqueue, io_uring, userns
	Path       string // file path; mount source; unix addr; mqueue name (a literal name, never a pattern)
	Target     string // link or exec target; mount point; change_profile target; unix peer addr
	Perms      string // file permissions (r w a l k m, or x for an exec)
	Owner      bool   // the records were for files the task's fsuid owns
	Capability string
	Family     string
	SockType   string // socket type; mqueue type (posix, sysv)
	Access     string
	Signal     string
	Peer       string // peer label
	Bus        string
	DbusPath   string
	Interface  string
	Member     string
	PeerName   string // dbus bind name
	Fstype     string
	Flags      string
}

// clone returns q with its strings copied, so that it keeps no event's
// memory alive (see Proposer.Add).
func (q query) clone() query {
	for _, f := range [...]*string{&q.Class, &q.Path, &q.Target, &q.Perms, &q.Capability, &q.Family, &q.SockType,
		&q.Access, &q.Signal, &q.Peer, &q.Bus, &q.DbusPath, &q.Interface, &q.Member, &q.PeerName, &q.Fstype, &q.Flags} {
		*f = strings.Clone(*f)
	}
	return q
}

// queries lists the accesses an aggregate stands for, one per signal or
// access word when the records were merged into a set.
func (g *agg) queries() []query {
	if len(g.set) == 0 {
		q := g.a
		q.Owner = g.owner
		return []query{q}
	}
	var out []query
	for _, v := range g.setList() {
		q := g.a
		if q.Class == "signal" {
			q.Signal = v
		} else {
			q.Access = v
		}
		out = append(out, q)
	}
	return out
}

// rate is the severity of a rule, -1 when there is no rater.
func (p *Proposer) rate(n profiles.Node) int {
	if p.opts.Severity == nil || n == nil {
		return -1
	}
	return p.opts.Severity.Rule(n)
}

// access is the query in Policy.Covers' terms.
func (q query) access() policy.Access {
	a := policy.Access{Class: q.Class, Path: q.Path, Target: q.Target, Perms: q.Perms, Owner: q.Owner,
		Capability: q.Capability, Family: q.Family, SockType: q.SockType, Signal: q.Signal, Peer: q.Peer,
		Bus: q.Bus, DbusPath: q.DbusPath, Interface: q.Interface, Member: q.Member, PeerName: q.PeerName, Fstype: q.Fstype}
	if q.Access != "" {
		a.Access = strings.Fields(q.Access)
	}
	switch q.Class {
	case "file":
		switch {
		case q.Perms == "x":
			a.Target = "" // the logged target is complain mode's null- profile
		case q.Target != "":
			a.Class = policy.ClassLink
		}
	case "unix":
		a.Target, a.PeerAddr = "", q.Target
	case "mount":
		a.Path, a.Target = q.Target, q.Path
		a.Class = q.Access
		if q.Access == "mount" && strings.Contains(q.Flags, "remount") {
			a.Class = policy.ClassRemount
		}
		a.Access = nil
		for _, f := range strings.Split(q.Flags, ",") {
			if f = strings.TrimSpace(f); f != "" {
				a.Flags = append(a.Flags, f)
			}
		}
	}
	return a
}

// mergeExec folds the plain file permissions of a program that is also
// executed into its exec rule: one line per program.
func mergeExec(cands []*candidate) []*candidate {
	execs := map[string]*profiles.FileRule{}
	for _, c := range cands {
		if r, ok := c.node.(*profiles.FileRule); ok && r.Exec != "" {
			execs[c.profile+"\x00"+r.Path] = r
		}
	}
	if len(execs) == 0 {
		return cands
	}
	out := cands[:0]
	for _, c := range cands {
		if r, ok := c.node.(*profiles.FileRule); ok && r.Exec == "" && c.path != "" {
			if x := execs[c.profile+"\x00"+r.Path]; x != nil {
				x.Perms = mergePerms(x.Perms, r.Perms)
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// EventAccesses are the accesses one record asks for, as Policy.Covers
// takes them; none for records no rule grants (status records, ...).
func EventAccesses(e *audit.Event) []policy.Access {
	return EventAccessesAs(e, e.ProfileName())
}

// EventAccessesAs is EventAccesses for a record judged as profile's, as
// the learner of profile would: complain mode's null- children of profile
// (the record's own label, its peers) are profile.
func EventAccessesAs(e *audit.Event, profile string) []policy.Access {
	return new(AccessReader).Accesses(e, profile)
}

// AccessReader is EventAccessesAs for many records: it reuses its work
// between calls. The accesses it returns refer to the record's strings and
// are valid until the next call. Not safe for concurrent use.
type AccessReader struct {
	p   *Proposer
	out []policy.Access
}

// Accesses returns the accesses e asks for, judged as profile's.
func (r *AccessReader) Accesses(e *audit.Event, profile string) []policy.Access {
	if r.p == nil {
		r.p = NewProposer(nil, profile, ProposeOptions{})
		r.p.transient = true
	}
	p := r.p
	p.name = profile
	clear(p.aggs)
	p.order = p.order[:0]
	p.warnings = p.warnings[:0]
	p.Add(e)
	r.out = r.out[:0]
	for _, k := range p.order {
		for _, q := range p.aggs[k].queries() {
			r.out = append(r.out, q.access())
		}
	}
	return r.out
}

// evidenceOf is the evidence of the records that asked for any of the set
// elements vs (a record asking for two counts once per element).
func (g *agg) evidenceOf(vs []string) Evidence {
	if len(vs) == len(g.set) {
		return g.ev
	}
	var ev Evidence
	for _, v := range vs {
		if e := g.set[v]; e != nil {
			ev.merge(*e)
		}
	}
	return ev
}
