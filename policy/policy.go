package policy

import (
	"fmt"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// Policy is one profile with its includes followed and its variables
// collected, ready to answer whether it allows an access. It is immutable
// after NewPolicy and safe for concurrent use.
type Policy struct {
	Name  string
	Vars  profiles.Vars
	Rules []profiles. // allow and deny rules of the profile and everything it includes, in order
		Node
	m *Matcher
}

// NewPolicy builds the Policy of the profile named profileName (the kernel's
// name, "parent//child" for a child) in f. Variables come from f's preamble
// and the files it includes (tunables); rules from the profile body and the
// abstractions it includes, recursively. Child profiles and hats are not
// part of their parent's policy. load may be nil: includes are then not
// followed.
func NewPolicy(f *profiles.File, profileName string, load profiles.IncludeLoader) (*Policy, error) {
	prof := f.Find(profileName)
	if prof == nil {
		return nil, fmt.Errorf("%s: no profile %q", f.Path, profileName)
	}
	b := &policyBuilder{load: load, vars: profiles.Vars{}, seen: map[string]bool{}}
	if err := b.walk(f.Items, f.Path, false, 0); err != nil {
		return nil, err
	}
	if err := b.walk(prof.Rules, f.Path, true, 0); err != nil {
		return nil, err
	}
	rules, err := applyAliases(b.rules, b.aliases, b.vars)
	if err != nil {
		return nil, err
	}
	return &Policy{Name: profileName, Vars: b.vars, Rules: rules, m: NewMatcher(b.vars)}, nil
}

// applyAliases adds the rules alias rules make, as apparmor_parser does
// (checked against its compiled DFA): for each alias FROM -> TO and each
// file or link rule whose path, variables expanded, starts with the text
// FROM (a plain string prefix: a rule starting with a glob or an
// alternation is not rewritten), a copy with that prefix replaced by TO; a
// link rule's target is rewritten in the same copy. The rules keep their
// qualifiers (deny rules are rewritten too), and aliases do not chain.
func applyAliases(rules []profiles.Node, aliases []*profiles.Alias, vars profiles.Vars) ([]profiles.Node, error) {
	if len(aliases) == 0 {
		return rules, nil
	}
	out := rules
	for _, a := range aliases {
		// rewrite returns pattern with a's prefix replaced, and whether it
		// had it.
		rewrite := func(pattern string, at profiles.Pos) (string, bool, error) {
			if pattern == "" {
				return pattern, false, nil
			}
			exp, err := vars.Expand(pattern)
			if err != nil {
				return "", false, fmt.Errorf("%s: alias %s -> %s: %w", at, a.From, a.To, err)
			}
			if rest, ok := strings.CutPrefix(exp, a.From); ok {
				return a.To + rest, true, nil
			}
			return pattern, false, nil
		}
		for _, n := range rules {
			switch r := n.(type) {
			case *profiles.FileRule:
				p, ok, err := rewrite(r.Path, r.Pos)
				if err != nil {
					return nil, err
				}
				if ok {
					c := *r
					c.Path = p
					out = append(out, &c)
				}
			case *profiles.LinkRule:
				p, okp, err := rewrite(r.Path, r.Pos)
				if err != nil {
					return nil, err
				}
				t, okt, err := rewrite(r.Target, r.Pos)
				if err != nil {
					return nil, err
				}
				if okp || okt {
					c := *r
					c.Path, c.Target = p, t
					out = append(out, &c)
				}
			}
		}
	}
	return out, nil
}

// maxIncludeDepth stops include recursion that the seen-set cannot (files
// without a path).
const maxIncludeDepth = 32

type policyBuilder struct {
	load    profiles.IncludeLoader
	vars    profiles.Vars
	aliases []*profiles. // from the preamble and the files it includes
		Alias
	rules []profiles.Node
	seen  map[string]bool // included file paths, each followed once
}

// walk collects variables from items and, when inProfile, rules too.
func (b *policyBuilder) walk(items []profiles.Node, from string, inProfile bool, depth int) error {
	if depth > maxIncludeDepth {
		return fmt.Errorf("%s: includes nested deeper than %d", from, maxIncludeDepth)
	}
	for _, n := range items {
		switch r := n.(type) {
		case *profiles.Variable:
			b.vars.Define(r)
		case *profiles.Alias:
			if !inProfile {
				b.aliases = append(b.aliases, r)
			}
		case *profiles.Include:
			if b.load == nil {
				continue
			}
			files, err := b.load(r, from)
			if err != nil {
				if r.IfExists {
					continue
				}
				return fmt.Errorf("%s: include %s: %w", r.Pos, r.Path, err)
			}
			for _, f := range files {
				key := f.Path
				if key != "" {
					if b.seen[key] {
						continue
					}
					b.seen[key] = true
				}
				if err := b.walk(f.Items, f.Path, inProfile, depth+1); err != nil {
					return err
				}
			}
		case *profiles.Profile:
			// a child profile or hat: its own policy
		case *profiles.FileRule, *profiles.LinkRule, *profiles.CapabilityRule, *profiles.NetworkRule, *profiles.ClassRule, *profiles.ChangeProfileRule:
			if inProfile {
				b.rules = append(b.rules, n)
			}
		}
	}
	return nil
}

// Matcher returns the policy's rule matcher (its variables, its glob cache).
func (p *Policy) Matcher() *Matcher { return p.m }

// Covers reports whether the profile allows a, as the kernel would decide:
// every requested permission is granted by some allow rule that applies
// (owner rules only when a.Owner) and refused by no deny rule. audit
// qualifiers do not change coverage.
func (p *Policy) Covers(a Access) bool {
	switch a.Class {
	case ClassFile, ClassLink:
		return p.coversFile(a)
	}
	if len(a.Access) > 1 {
		// like file permissions, access words may be granted by different
		// rules: (send) in one, (receive) in another
		for _, w := range a.Access {
			one := a
			one.Access = []string{w}
			if !p.Covers(one) {
				return false
			}
		}
		return true
	}
	allowed := false
	for _, r := range p.Rules {
		q := profiles.RuleQualifiers(r)
		if !p.m.RuleMatches(r, a) {
			continue
		}
		if q != nil && q.Deny {
			return false
		}
		allowed = true
	}
	return allowed
}

// coversFile unions the permissions of every applying allow rule (a request
// for rw may be met by one rule granting r and another granting w) and
// subtracts every applying deny rule.
func (p *Policy) coversFile(a Access) bool {
	req := normPerms(a.Perms)
	if a.Class == ClassLink && !strings.ContainsRune(req, 'l') {
		req += "l"
	}
	if req == "" {
		return false
	}
	for _, c := range req {
		one := a
		one.Perms = string(c)
		if c == 'l' {
			if !p.coversLink(one) {
				return false
			}
			continue
		}
		if !p.coversOne(one) {
			return false
		}
	}
	return true
}

// coversOne answers for a single permission letter.
func (p *Policy) coversOne(a Access) bool {
	allowed := false
	for _, r := range p.Rules {
		if _, ok := r.(*profiles.LinkRule); ok {
			continue
		}
		if !p.m.RuleMatches(r, a) {
			continue
		}
		if q := profiles.RuleQualifiers(r); q != nil && q.Deny {
			return false
		}
		allowed = true
	}
	return allowed
}

// coversLink answers for a hard link: a link rule naming both ends, or a
// file rule granting l on the link's name (which is `link subset NAME ->
// /**`). As in the kernel, the permissions of every matching rule are
// unioned first: if any of them asks for the subset test, the link may
// grant no more than the target has (checked when the target is known).
func (p *Policy) coversLink(a Access) bool {
	allowed, subset := false, false
	for _, r := range p.Rules {
		switch x := r.(type) {
		case *profiles.LinkRule:
			if !p.m.RuleMatches(r, a) {
				continue
			}
			if x.Q.Deny {
				return false
			}
			allowed = true
			subset = subset || x.Subset
		case *profiles.FileRule:
			if !p.m.RuleMatches(r, a) {
				continue
			}
			if x.Q.Deny {
				return false
			}
			allowed = true
			subset = true
		}
	}
	if allowed && subset && a.Target != "" {
		return p.subsetOK(a)
	}
	return allowed
}

// subsetOK checks that every permission the link's name is granted (r w
// a m k x) is also granted on the target.
func (p *Policy) subsetOK(a Access) bool {
	for _, c := range "rwamkx" {
		link := Access{Class: ClassFile, Path: a.Path, Perms: string(c), Owner: a.Owner}
		if !p.coversOne(link) {
			continue
		}
		target := Access{Class: ClassFile, Path: a.Target, Perms: string(c), Owner: a.Owner}
		if !p.coversOne(target) {
			return false
		}
	}
	return true
}

// Explain returns the allow rules that grant a (any part of its
// permissions), in policy order, so a caller can say "already allowed by
// abstractions/base:12". Deny rules that refuse it come after them. An
// empty result means nothing in the policy speaks about a.
func (p *Policy) Explain(a Access) []profiles.Node {
	var allow, deny []profiles.Node
	for _, r := range p.Rules {
		q := profiles.RuleQualifiers(r)
		if q != nil && q.Deny {
			if p.m.RuleMatches(r, a) {
				deny = append(deny, r)
			}
			continue
		}
		if p.explains(r, a) {
			allow = append(allow, r)
		}
	}
	return append(allow, deny...)
}

// explains reports whether an allow rule grants at least one of a's
// permissions (for files) or all of a (for other classes).
func (p *Policy) explains(r profiles.Node, a Access) bool {
	if a.Class != ClassFile {
		return p.m.RuleMatches(r, a)
	}
	for _, c := range normPerms(a.Perms) {
		one := a
		one.Perms = string(c)
		if p.m.RuleMatches(r, one) {
			return true
		}
	}
	return false
}

// CollectVars returns the variables a policy file defines in its preamble
// and in the files its preamble includes (tunables), following includes
// with load (nil: not followed).
func CollectVars(f *profiles.File, load profiles.IncludeLoader) (profiles.Vars, error) {
	b := &policyBuilder{load: load, vars: profiles.Vars{}, seen: map[string]bool{}}
	if err := b.walk(f.Items, f.Path, false, 0); err != nil {
		return nil, err
	}
	return b.vars, nil
}

// ExecRule is the allow rule that decides where an exec of path goes (its
// Exec mode and Target), as apparmor_parser compiles the profile: a rule
// naming path exactly wins over patterns that match it, else the first
// pattern that does (the parser refuses patterns whose modes conflict).
// nil when no rule grants the exec or a deny rule refuses it.
func (p *Policy) ExecRule(path string) *profiles.FileRule {
	var best *profiles.FileRule
	exact := false
	for _, n := range p.Rules {
		r, ok := n.(*profiles.FileRule)
		if !ok || r.Exec == "" || r.Path == "" || !p.m.glob(r.Path, path) {
			continue
		}
		if r.Q.Deny {
			return nil
		}
		lit, err := profiles.UnescapeLiteral(r.Path)
		switch {
		case err == nil && lit == path && !exact:
			best, exact = r, true
		case best == nil:
			best = r
		}
	}
	return best
}
