package propose

import (
	"fmt"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/templates"
)

// ProposeOptions tune Propose. The zero value proposes literal rules for
// everything, with nothing treated as already allowed.
type ProposeOptions struct {
	// Covers reports whether the current policy of profile (the full
	// kernel name: "svc", "svc//hat") already allows the access. Nil means
	// nothing is allowed yet.
	Covers func(profile string, a policy.Access) bool
	// ProfileFor reports whether a profile exists for an executable that
	// confines it, so that exec transitions to it use px; why says why a
	// profile file found for it does not count (unconfined, disabled,
	// unreadable), "" when there is none. Nil: never.
	ProfileFor func(path string) (ok bool, why string)
	// Setuid reports whether an executable is setuid or setgid, so that
	// transitions to it scrub the environment (Px, Cx). Nil: never.
	Setuid func(path string) bool
	// RunsUnder says which (sub)profile the current policy of profile runs
	// program under (see Router.Exec) and whether it has an exec rule for
	// program at all. Complain mode's null- child of a program with no
	// exec rule yet goes where the exec rule proposed for it sends it (cx:
	// the child profile). Nil: no exec rule is known.
	RunsUnder func(profile, program string) (sub string, ok bool)
	// ChildExec makes exec transitions without a profile of their own go to
	// a child profile (cx) instead of inheriting (ix).
	ChildExec bool
	// Vars are the variables the profile can use (after its includes), by
	// name without @{ }. Generalisation writes @{PROC}, @{pid}, @{HOME},
	// @{uid} only when they are defined; otherwise it writes plain globs.
	Vars profiles.Vars
	// SiblingThreshold is how many unshaped files of one directory become
	// one pattern (0: 8; negative: never).
	SiblingThreshold int
	// TreeThreshold is how many distinct subdirectories with files of
	// their own make DIR/** (0: 4; negative: never).
	TreeThreshold int
	// Literal turns name inference off: every file rule is the literal
	// name (the person's patterns in Names still apply).
	Literal bool
	// Names are the person's own rules for names: names that stay
	// literal, patterns of their own.
	Names Names
	// Severity rates rules; nil rates everything 0 (unknown).
	Severity Rater
	// Abstractions are candidate abstractions to suggest.
	Abstractions []AbstractionCandidate
	// ABI names the abi the profile pins ("abi/3.0") and ABIFeatures
	// that abi file's features; a rule needing a feature it lacks (userns,
	// io_uring, mqueue under abi/3.0; io_uring under abi/4.0: see
	// kernel.Features.MissingFor) is set aside with a warning. Nil
	// ABIFeatures: no abi pinned, nothing set aside.
	ABI         string
	ABIFeatures kernel.Features
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
	// route routes records as the exec rules send programs: the current
	// policy's, else the ones proposed (runsUnder).
	route Router

	counts Counts
	aggs   map[string]int32 // by profile and Access.AppendKey, into gens
	gens   []*agg
	// files are the plain file accesses (files.go).
	files fileAggs
	// order is every aggregate in first-seen order, for stable output: i
	// for gens[i], ^i for files[i].
	order []int32
	// strs and strIdx intern the strings records repeat (intern).
	strs     []string
	strIdx   map[string]int32
	warnings []string
	// noted is the notes already given in warnings, by kind and subject
	// (firstNote), and targets the exec targets noted for having no
	// profile here.
	noted, targets map[string]bool
	// pxTo is, by program, whether it has a profile px can go to
	// (profileFor).
	pxTo map[string]bool
	// children are the child profiles cx rules run programs in, by full
	// name, in first-seen order (noteChild).
	children   map[string]*newChild
	childOrder []string
	// learning is the programs seen running under a null- profile
	// (noteLearningChild).
	learning map[string]bool
	// acc and key are scratch buffers reused between records.
	acc []policy.Access
	key []byte
	// match answers coverage between proposed rules (generalise).
	match *policy.Matcher
}

// NewProposer starts a proposal for profileName.
func NewProposer(file *profiles.File, profileName string, opts ProposeOptions) *Proposer {
	if opts.SiblingThreshold == 0 {
		opts.SiblingThreshold = 8
	}
	if opts.TreeThreshold == 0 {
		opts.TreeThreshold = 4
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	p := &Proposer{file: file, name: profileName, opts: opts, aggs: map[string]int32{}}
	p.route = Router{Name: profileName, Exec: p.runsUnder}
	p.intern("")
	return p
}

// agg is one distinct access (by Access.AppendKey), with everything merged
// from the records that asked for it.
type agg struct {
	profile string        // full kernel name of the (sub)profile it belongs in
	a       policy.Access // file permissions merged, owner while every record was the owner's
	ev      Evidence
	// set holds the members (signals, access words) of a class with
	// Members, each with the evidence of the records that asked for it.
	set map[string]*Evidence
	// sockets are the filesystem paths of the unix sockets whose records
	// the aggregate stands for, when a rule cannot name them (see
	// pathSockets): its rule is a held widening.
	sockets []string
}

// Add feeds one event. It keeps neither e nor its strings: what the
// proposal needs from it is copied, so e may be reused (audit.Read's
// events) and a long log's line memory is not held by a few rules.
func (p *Proposer) Add(e *audit.Event) {
	p.counts.Read++
	prof, ok := p.route.Route(e.ProfileName())
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
	p.noteLearningChild(e.ProfileName())
	p.noteStack(e.ProfileName(), prof)
	if ch := p.children[prof]; ch != nil {
		ch.ev.add(e)
	}
	if prof == "" {
		// A null- child of a program that runs under another profile
		// (px): that profile's records, not this one's.
		p.counts.Ignored++
		return
	}
	if Optional(e) {
		// The kernel asked in passing and copes with a refusal: no rule.
		p.counts.Ignored++
		p.counts.Optional++
		p.noteOptional(e)
		return
	}
	if LabelNotFound(e) {
		p.counts.Ignored++
		p.noteLabelNotFound(e)
		return
	}
	if DisconnectedPath(e) {
		p.counts.Ignored++
		p.counts.Disconnected++
		p.noteDisconnected(e, prof)
		return
	}
	if !plainWords(e) {
		// Access words go into rules as they are: a record whose mask
		// or signal is not plain words (a forged syslog line) is refused.
		p.counts.Unwritable++
		p.warn(fmt.Sprintf("%s: access %q, signal %q are not plain words; record ignored", eventSource(e), mask(e), e.Signal))
		return
	}
	p.noteUnknownTarget(e, prof)
	p.acc = p.route.AppendAccesses(p.acc[:0], e)
	if len(p.acc) == 0 {
		p.counts.Ignored++
		return
	}
	for i := range p.acc {
		a := &p.acc[i]
		if a.Class == policy.ClassNetwork && !p.netAddrs() {
			// The pinned abi cannot name addresses (or none is pinned,
			// and the parser may not): the family and type rule.
			a.Path, a.Port, a.PeerAddr, a.PeerPort = "", "", "", ""
		}
		sockets := pathSockets(a)
		if g := p.merge(prof, a, e); g != nil {
			g.addSockets(sockets)
		}
	}
}

// runsUnder is where profile runs program: where its exec rule sends it,
// else where the exec rule proposed for it will.
func (p *Proposer) runsUnder(profile, program string) string {
	if p.opts.RunsUnder != nil {
		if sub, ok := p.opts.RunsUnder(profile, program); ok {
			if name, child := strings.CutPrefix(sub, profile+"//"); child {
				return p.noteChild(profile, name)
			}
			return sub
		}
	}
	switch p.execMode(profile, program)[0] {
	case 'p', 'P':
		return ""
	case 'c', 'C':
		return p.noteChild(profile, program)
	}
	return profile
}

// newChild is a child profile that a cx rule (the file's or a proposed
// one) runs a program in, which the file may not have yet.
type newChild struct {
	parent, name string
	ev           Evidence // of the exec rule and the records routed into it
	// exec is the proposed cx rule that runs a program in it, if any: the
	// child is ranked with it.
	exec *candidate
}

// noteChild remembers the child name of parent (a full kernel name) that
// a cx rule runs a program in, and returns the child's full name.
func (p *Proposer) noteChild(parent, name string) string {
	full := parent + "//" + name
	if _, ok := p.children[full]; ok {
		return full
	}
	if p.children == nil {
		p.children = map[string]*newChild{}
	}
	full = strings.Clone(full)
	p.children[full] = &newChild{parent: strings.Clone(parent), name: strings.Clone(name)}
	p.childOrder = append(p.childOrder, full)
	return full
}

// childCandidates are the empty child profiles the cx rules need that the
// file does not have: each starts in its parent's mode, and its rules are
// learned from its own records (rated like any other rule).
func (p *Proposer) childCandidates() ([]*candidate, []string) {
	var out []*candidate
	var warnings []string
	for _, full := range p.childOrder {
		ch := p.children[full]
		if p.file != nil && p.file.Find(full) != nil {
			continue
		}
		lit, err := profiles.EscapeLiteral(ch.name)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("%s: child profile %q cannot be written: %v", ch.parent, ch.name, err))
			continue
		}
		sev := unrated
		if ch.exec != nil {
			sev = ch.exec.sev
		}
		out = append(out, &candidate{profile: ch.parent, node: &profiles.Profile{Keyword: "profile", Name: lit, Flags: p.modeFlags(ch.parent)},
			ev: ch.ev, sev: sev, child: full,
			why: fmt.Sprintf("the child profile %s runs in (cx); written with every accepted rule that needs it (a cx rule whose child is missing fails the exec), and it starts in %s's mode", ch.name, ch.parent)})
	}
	return out, warnings
}

// merge adds one access of record e to its aggregate.
func (p *Proposer) merge(prof string, a *policy.Access, e *audit.Event) *agg {
	if a.Class == policy.ClassFile && a.Perms != "x" {
		p.mergeFile(prof, a, e)
		return nil
	}
	p.key = append(append(p.key[:0], prof...), 0)
	p.key = a.AppendKey(p.key)
	var g *agg
	if i, ok := p.aggs[string(p.key)]; ok {
		g = p.gens[i]
	} else {
		// A new access: what is kept is copied (see Add).
		g = &agg{profile: strings.Clone(prof), a: a.Clone()}
		switch {
		case a.Class == policy.ClassFile || a.Class == policy.ClassLink:
			g.a.Perms, g.a.Owner = "", true
		case a.Class == policy.ClassSignal:
			g.a.Signal = ""
		case a.Class.Members():
			g.a.Access = nil
		}
		i := int32(len(p.gens))
		p.aggs[string(p.key)] = i
		p.gens = append(p.gens, g)
		p.order = append(p.order, i)
	}
	g.ev.add(e)
	switch {
	case a.Class == policy.ClassFile || a.Class == policy.ClassLink:
		if g.a.Perms != a.Perms {
			g.a.Perms = mergePermsExec(g.a.Perms, a.Perms)
		}
		g.a.Owner = g.a.Owner && a.Owner
	case a.Class == policy.ClassSignal:
		g.addMember(a.Signal, e)
	case a.Class.Members():
		for _, w := range a.Access {
			g.addMember(w, e)
		}
	}
	return g
}

// mergePermsExec is mergePerms keeping an exec's x.
func mergePermsExec(a, b string) string {
	if a == "x" || b == "x" {
		return "x"
	}
	return mergePerms(a, b)
}

func (g *agg) addMember(v string, e *audit.Event) {
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

// members are the aggregate's set, sorted.
func (g *agg) members() []string {
	out := make([]string, 0, len(g.set))
	for v := range g.set {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// with is the aggregate's access for one member (a signal, an access word).
func (g *agg) with(member string) policy.Access {
	a := g.a
	if a.Class == policy.ClassSignal {
		a.Signal = member
	} else {
		a.Access = []string{member}
	}
	return a
}

// accesses lists the accesses an aggregate stands for, one per member when
// the records were merged into a set.
func (g *agg) accesses() []policy.Access {
	if !g.a.Class.Members() {
		return []policy.Access{g.a}
	}
	var out []policy.Access
	for _, v := range g.members() {
		out = append(out, g.with(v))
	}
	return out
}

// evidenceOf is the evidence of the records that asked for any of the
// members vs (a record asking for two counts once per member).
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

// maxWarnings caps the warnings a proposal carries.
const maxWarnings = 100

func (p *Proposer) warn(msg string) {
	if len(p.warnings) < maxWarnings {
		p.warnings = append(p.warnings, msg)
	}
}

// noteUnknownTarget says once per program when the kernel ran it under a
// profile of its own that the profile directory does not have: px to it
// would not confine it, so the learner proposes ix (or cx) and says so.
func (p *Proposer) noteUnknownTarget(e *audit.Event, prof string) {
	t := e.Target
	if e.Operation != "exec" || !strings.HasPrefix(e.Name, "/") || t == "" || strings.Contains(t, "//null-") || t == "unconfined" {
		return
	}
	if _, own := Route(t, p.name); own || p.targets[e.Name] || !wordsOnly(strings.ReplaceAll(strings.ReplaceAll(t, "/", ""), ".", "")) {
		return
	}
	if p.profileFor(e.Name) {
		return
	}
	if p.targets == nil {
		p.targets = map[string]bool{}
	}
	p.targets[strings.Clone(e.Name)] = true
	p.warn(fmt.Sprintf("%s: %s ran under profile %q, which the profile directory does not define: proposed %s, not px", eventSource(e), e.Name, t, p.execMode(prof, e.Name)))
}

// noteOptional says once per request why an optional one got no rule.
func (p *Proposer) noteOptional(e *audit.Event) {
	what := e.Operation
	if e.Capname != "" {
		what = "capability " + e.Capname
	}
	if !wordsOnly(what) || !p.firstNote("optional", what) {
		return
	}
	p.warnAt(e, fmt.Sprintf("%s was asked for as optional (info=%q); no rule: enforce mode refuses it silently and the program copes", what, OptionalInfo))
}

// firstNote reports whether the note of kind about subject is not yet
// given, and marks it given: each note is said once per proposal.
func (p *Proposer) firstNote(kind, subject string) bool {
	key := kind + "\x00" + subject
	if p.noted[key] {
		return false
	}
	if p.noted == nil {
		p.noted = map[string]bool{}
	}
	p.noted[key] = true // a new string: subject may be the record's
	return true
}

// warnAt warns msg about record e, after the record's source line when it
// has one.
func (p *Proposer) warnAt(e *audit.Event, msg string) {
	if src := eventSource(e); src != "" {
		msg = src + ": " + msg
	}
	p.warn(msg)
}

// netAddrs reports whether network rules may name addresses and ports:
// only when the pinned abi has fine-grained inet mediation.
func (p *Proposer) netAddrs() bool {
	return p.opts.ABIFeatures != nil && p.opts.ABIFeatures.MissingFor("network", "inet", nil) == ""
}

// noteLabelNotFound says once per target why a change of profile to a
// profile that is not loaded got no rule.
func (p *Proposer) noteLabelNotFound(e *audit.Event) {
	target := firstNonEmpty(e.Target, e.Name)
	if !p.firstNote("label not found", e.Operation+" -> "+target) {
		return
	}
	p.warnAt(e, fmt.Sprintf("%s to %q failed: no profile of that name is loaded (info=\"label not found\"); no rule can allow it: load that profile, and learn again", e.Operation, target))
}

// noteDisconnected says once per operation and name why a record of a
// disconnected path got no rule.
func (p *Proposer) noteDisconnected(e *audit.Event, prof string) {
	if !p.firstNote("disconnected", e.Operation+" "+e.Name) {
		return
	}
	p.warnAt(e, fmt.Sprintf("%s: %s of %q (%s) is of a disconnected path (info=%q): %s", prof, e.Operation, e.Name, mask(e), DisconnectedInfo, DisconnectedAdvice(p.name)))
}

// noteStack says once per stacked label ("docker-default//&web", label= in
// the kernel's record) that its records are learned into this profile's
// part: the stack confines the task by every part at once, and the other
// parts' profiles are not this proposal's to change.
func (p *Proposer) noteStack(label, sub string) {
	if sub == "" || !strings.Contains(label, "//&") || !p.firstNote("stack", label) {
		return
	}
	var others []string
	for part := range strings.SplitSeq(label, "//&") {
		if _, own := (Router{Name: p.name}).routeOne(part); !own {
			others = append(others, part)
		}
	}
	msg := fmt.Sprintf("records of the stacked label %q are learned into %s, its part of the stack", label, sub)
	if len(others) > 0 {
		msg += fmt.Sprintf("; the task is confined by every part at once, so %s may still deny what these rules allow (their profiles are not changed)", strings.Join(others, ", "))
	}
	p.warn(msg)
}

// Proposal finishes the stream: it drops what the policy already allows,
// builds rules, generalises, suggests abstractions, rates and ranks.
func (p *Proposer) Proposal() (*Proposal, error) {
	prop := &Proposal{Profile: p.name, Created: p.opts.Now.UTC(), Warnings: append([]string(nil), p.warnings...)}
	var cands []*candidate
	var lits []int32 // plain file aggregates still to propose
	// Each aggregate goes once its candidate is built: a long log's
	// distinct accesses are not held twice.
	p.aggs = nil
	for _, i := range p.order {
		if i < 0 {
			if p.literal(^i, prop) {
				lits = append(lits, ^i)
			}
			continue
		}
		g := p.gens[i]
		p.gens[i] = nil
		c, err := p.build(g)
		if c != nil {
			c.accesses = g.accesses()
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
		if len(g.sockets) > 0 {
			p.holdPathSocket(c, g)
		}
		if msg := p.beyondABI(c); msg != "" {
			p.counts.Unwritable += g.ev.Count
			prop.Warnings = append(prop.Warnings, msg)
			continue
		}
		cands = append(cands, c)
	}
	p.order, p.gens, p.files.slots = nil, nil, nil
	children, warnings := p.childCandidates()
	cands = append(cands, children...)
	prop.Warnings = append(prop.Warnings, warnings...)
	lits = p.mergeExec(cands, lits)
	cands = p.generalise(cands, lits)
	// The literal names are rules now, or folded into patterns.
	p.files = fileAggs{}
	for _, c := range cands {
		p.sevOf(c)
	}
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
	prop.LearningChildren = p.learningChildren()
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
	why      string // why it is proposed, when the rule alone does not say
	covers   []*candidate
	ev       Evidence
	sev      int
	// accesses are the accesses the rule grants (for abstractions' check;
	// see grants).
	accesses []policy.Access
	// path, perms, owner describe a plain literal file rule (for
	// generalisation); path is empty for every other rule.
	path  string
	perms string
	owner bool
	rule  *Rule
	// child is the full name of the child profile the candidate is (an
	// empty profile) or runs a program in (a cx rule), when the file
	// does not have it yet: see Rule.Child.
	child string
	// explain says what a generalised rule stands for; held why --yes
	// and --all do not take it.
	explain *Explanation
	held    string
}

// grants are the accesses the candidate's rule grants, for abstractions'
// check: a plain literal file rule's is its path (not kept: a long log has
// many), the others' were kept when built; none for a pattern.
func (c *candidate) grants() []policy.Access {
	if c.path != "" {
		return []policy.Access{{Class: policy.ClassFile, Path: c.path, Perms: c.perms, Owner: c.owner}}
	}
	return c.accesses
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
	return pr.ModeFlags()
}

// idLess orders r2 before r10.
func idLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// unrated is a candidate's severity before it is rated (sevOf).
const unrated = -2

// sevOf is a candidate's severity, rating it the first time.
func (p *Proposer) sevOf(c *candidate) int {
	if c.sev == unrated {
		c.sev = p.rate(c.node)
	}
	return c.sev
}

// rate is the severity of a rule, -1 when there is no rater.
func (p *Proposer) rate(n profiles.Node) int {
	if p.opts.Severity == nil || n == nil {
		return -1
	}
	return p.opts.Severity.Rule(n)
}

// beyondABI says why a candidate rule cannot be written under the pinned
// abi, "" when it can.
func (p *Proposer) beyondABI(c *candidate) string {
	r, ok := c.node.(*profiles.ClassRule)
	if !ok || p.opts.ABIFeatures == nil {
		return ""
	}
	kind := ""
	for _, cd := range r.Conds {
		if cd.Key == "type" && len(cd.Values) == 1 {
			kind = cd.Values[0]
		}
	}
	missing := p.opts.ABIFeatures.MissingFor(r.Class, kind, r.Access)
	if missing == "" {
		return ""
	}
	text, _ := templates.RenderLine(r)
	return fmt.Sprintf("%s: %s has no %s rules (%s), so %q (%s) is set aside: pin a newer abi to allow it", c.profile, p.opts.ABI, r.Class, missing, text, c.ev)
}
