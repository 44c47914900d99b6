package propose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose/internal/volatile"
)

// Generalisation turns the literal file rules learned from the records
// into patterns where aa-flow's inference (propose/internal/volatile) says
// part of a name varies: a family of names of one shape (numbered state
// files, per-process temp dirs, epoch archives, pids under /proc, ...)
// becomes one rule that keeps every fixed part of the names. Each pattern
// is built from escaped pieces of the logged names and the inference's own
// glob tokens: a character of a logged name never becomes a glob.
//
// A pattern is rated by the most sensitive path it can match. One that
// would reach something more dangerous than every name it was learned
// from is not proposed (the literals are); one rated 9 or 10 is proposed
// but held: --yes and --all leave it pending until the person names it.
//
// Rule.Generalisation names the shapes a rule generalises ("epoch",
// "pid", "counter+mktemp", "siblings", "tree"), or GenPerson for a
// pattern the person gave.
const (
	// GenPerson marks a rule whose pattern the person gave (Names).
	GenPerson = "yours"
	// GenSiblings is many differently named files of one directory.
	GenSiblings = string(volatile.Siblings)
	// GenProcPID is /proc/PID/...: @{PROC}/@{pid}/...
	GenProcPID = string(volatile.PID)
)

// HeldSeverity is the rating from which a pattern broader than its
// records is held for the person (see Rule.Held).
const HeldSeverity = 9

// maxExamples is how many of the names a pattern covers its explanation
// lists.
const maxExamples = 3

// maxLiteral is the largest family whose literal rules a pattern keeps as
// its alternative (Rule.Literal, Rule.Replaces): thousands of names
// written one by one are no choice a person makes, and holding them
// would make learning grow with them. learn --literal is the way to
// write such names as they are.
const maxLiteral = 100

// pattern writes pieces as a Path: literal pieces escaped so that they
// match only themselves, glob pieces as they are.
func pattern(ps []volatile.Piece) (string, error) {
	var b strings.Builder
	for _, p := range ps {
		if p.Glob {
			b.WriteString(p.Text)
			continue
		}
		e, err := profiles.EscapeLiteral(p.Text)
		if err != nil {
			return "", err
		}
		b.WriteString(e)
	}
	return b.String(), nil
}

// hasVar reports whether the profile can use @{name}.
func (p *Proposer) hasVar(name string) bool {
	_, ok := p.opts.Vars[name]
	return ok
}

// tooBroad reports patterns aa-flow never suggests: the root, everything,
// or a whole top-level tree by itself (/tmp/*, /usr/**, /*/x).
func tooBroad(pat string) bool {
	switch pat {
	case "", "/", "/*", "/**", "/*/", "/**/":
		return true
	}
	segs := strings.Split(strings.Trim(pat, "/"), "/")
	if strings.ContainsAny(segs[0], "*?[{") && !strings.HasPrefix(segs[0], "@{") {
		return true // a glob in the top-level segment
	}
	if len(segs) == 1 {
		return false
	}
	// /top/ followed only by globs.
	for _, s := range segs[1:] {
		if strings.Trim(s, "*") != "" {
			return false
		}
	}
	return true
}

// generalise turns the literal file aggregates lits into the families
// inference finds (and the person's patterns) and the literal rules left,
// after the other candidates cands.
func (p *Proposer) generalise(cands []*candidate, lits []int32) []*candidate {
	out := cands
	byProf := map[int32][]int32{}
	var profs []int32
	for _, i := range lits {
		f := p.files.at(i)
		if p.opts.Names.Pinned(f.path) {
			out = append(out, p.fileCandidate(i))
			continue
		}
		if byProf[f.prof] == nil {
			profs = append(profs, f.prof)
		}
		byProf[f.prof] = append(byProf[f.prof], i)
	}
	for _, prof := range profs {
		cs := p.personPatterns(byProf[prof], &out)
		delete(byProf, prof)
		if p.opts.Literal {
			out = p.appendLiterals(out, cs)
			continue
		}
		names := make([]volatile.Name, len(cs))
		for i, c := range cs {
			names[i] = volatile.Name{Path: p.files.at(c).path, Owner: p.files.at(c).owner}
		}
		fams := volatile.Infer(names, volatile.Options{HasVar: p.hasVar, SiblingMin: p.opts.SiblingThreshold, TreeMin: p.opts.TreeThreshold})
		names = nil
		var globs []*candidate
		for _, f := range fams {
			members := make([]int32, len(f.Members))
			for i, m := range f.Members {
				members[i] = cs[m]
			}
			if !f.Glob() {
				out = p.appendLiterals(out, members)
				continue
			}
			pat, err := pattern(f.Pieces)
			if err != nil || tooBroad(pat) {
				out = p.appendLiterals(out, members)
				continue
			}
			c := p.suggest(pat, f.Shapes, members)
			if c == nil {
				out = p.appendLiterals(out, members)
				continue
			}
			globs = append(globs, c)
		}
		out = append(out, globs...)
	}
	return p.foldCovered(out)
}

// appendLiterals appends the literal rules of file aggregates ms.
func (p *Proposer) appendLiterals(out []*candidate, ms []int32) []*candidate {
	for _, m := range ms {
		out = append(out, p.fileCandidate(m))
	}
	return out
}

// personPatterns takes the file aggregates a pattern of the person's
// names file (Names.Patterns) matches into one rule per pattern, appended
// to out; it returns the others.
func (p *Proposer) personPatterns(cs []int32, out *[]*candidate) []int32 {
	if len(p.opts.Names.Patterns) == 0 {
		return cs
	}
	m := p.matcher()
	taken := map[string][]int32{}
	var rest []int32
	for _, c := range cs {
		found := false
		for _, pat := range p.opts.Names.Patterns {
			if m.RuleCovers(&profiles.FileRule{Path: pat, Perms: permSets[p.files.at(c).need]}, p.fileAccessOf(c)) {
				taken[pat] = append(taken[pat], c)
				found = true
				break
			}
		}
		if !found {
			rest = append(rest, c)
		}
	}
	for _, pat := range p.opts.Names.Patterns {
		if ms := taken[pat]; len(ms) > 0 {
			c := p.merged(pat, ms)
			c.general = GenPerson
			*out = append(*out, c)
		}
	}
	return rest
}

// merged is the rule for pattern pat that stands for the literal file
// aggregates ms: their permissions and evidence merged, owner when every
// one was, the literals kept as the alternative.
func (p *Proposer) merged(pat string, ms []int32) *candidate {
	c := &candidate{profile: p.strs[p.files.at(ms[0]).prof], owner: true, explain: &Explanation{Names: len(ms)}}
	var perms uint8
	var t tally
	for _, m := range ms {
		f := p.files.at(m)
		perms = unitePerms(perms, f.need)
		c.owner = c.owner && f.owner
		mergeTally(&t, &f.t)
	}
	c.ev = p.evidence(&t)
	// No accesses: a pattern reaches more than its names, so no
	// abstraction is taken to cover it because it covers the names.
	sorted := slices.SortedFunc(slices.Values(ms), func(a, b int32) int { return strings.Compare(p.files.at(a).path, p.files.at(b).path) })
	for _, m := range sorted[:min(maxExamples, len(sorted))] {
		c.explain.Examples = append(c.explain.Examples, p.files.at(m).path)
	}
	if len(ms) <= maxLiteral {
		for _, m := range sorted {
			c.literals = append(c.literals, p.fileNode(m))
			c.replaces = append(c.replaces, p.files.at(m).path)
		}
	}
	c.node = &profiles.FileRule{Q: profiles.Qualifiers{Owner: c.owner}, Path: pat, Perms: permSets[perms]}
	c.sev = p.rate(c.node)
	return c
}

// suggest builds the rule of one inferred family, or nil when its pattern
// reaches something more dangerous than every name it was learned from.
// A pattern rated HeldSeverity or more is held for the person.
func (p *Proposer) suggest(pat string, shapes []volatile.Shape, ms []int32) *candidate {
	c := p.merged(pat, ms)
	var names []string
	for _, s := range shapes {
		names = append(names, string(s))
	}
	c.general = strings.Join(names, "+")
	c.explain.Shapes = names
	if p.opts.Severity == nil {
		return c
	}
	if c.owner && slices.Contains(shapes, volatile.User) && strings.HasPrefix(pat, "@{HOME}") {
		// owner @{HOME}/... grants in any home only what the task's own
		// user owns: it reaches, for the users the records came from, what
		// the pattern reaches in their own homes.
		c.sev = -1
		fr := c.node.(*profiles.FileRule)
		for _, m := range ms {
			home := homeOf(p.files.at(m).path)
			lit, err := profiles.EscapeLiteral(home)
			if err != nil {
				return nil
			}
			c.sev = max(c.sev, p.rate(&profiles.FileRule{Q: fr.Q, Path: lit + strings.TrimPrefix(pat, "@{HOME}"), Perms: fr.Perms}))
		}
	}
	// The pattern may reach what one of its names reaches, no more: the
	// names are rated until one is as dangerous as the pattern.
	reached := false
	for _, m := range ms {
		if p.fileSev(m) >= c.sev {
			reached = true
			break
		}
	}
	if !reached {
		return nil
	}
	if c.sev >= HeldSeverity {
		c.held = fmt.Sprintf("rated %d: the pattern reaches more than the %d name(s) it was learned from; accept it by name (review, or apply --accept ID), or take the literal rules (--literal ID)", c.sev, len(ms))
	}
	return c
}

// homeOf is /home/NAME/ of a path under it.
func homeOf(path string) string {
	rest := strings.TrimPrefix(path, "/home/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return "/home/" + rest[:i+1]
	}
	return path
}

// fileAccess is the access a literal file candidate stands for.
func fileAccess(c *candidate) policy.Access {
	return policy.Access{Class: policy.ClassFile, Path: c.path, Perms: c.perms, Owner: c.owner}
}

// foldCovered drops literal file candidates that a proposed pattern of the
// same profile already grants, folding their evidence into it: a rule
// already covered by another proposed rule is not proposed.
func (p *Proposer) foldCovered(cands []*candidate) []*candidate {
	globs := map[string][]*candidate{}
	for _, c := range cands {
		if c.explain != nil && c.held == "" {
			globs[c.profile] = append(globs[c.profile], c)
		}
	}
	if len(globs) == 0 {
		return cands
	}
	m := p.matcher()
	out := cands[:0]
	for _, c := range cands {
		if c.path != "" && c.explain == nil {
			if g := coveringGlob(m, globs[c.profile], c); g != nil {
				g.ev.merge(c.ev)
				g.explain.Names++
				if len(g.replaces) > 0 && g.explain.Names <= maxLiteral {
					g.literals = append(g.literals, c.node)
					g.replaces = append(g.replaces, c.path)
				}
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func coveringGlob(m *policy.Matcher, globs []*candidate, c *candidate) *candidate {
	for _, g := range globs {
		if m.RuleCovers(g.node, fileAccess(c)) {
			return g
		}
	}
	return nil
}

// matcher answers coverage with the profile's variables.
func (p *Proposer) matcher() *policy.Matcher {
	if p.match == nil {
		p.match = policy.NewMatcher(p.opts.Vars)
	}
	return p.match
}
