package propose

import (
	"fmt"
	"sort"

	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// AbstractionCandidate is an abstraction Propose may suggest including
// instead of several literal rules.
type AbstractionCandidate struct {
	// Name is the include path, "abstractions/nameservice".
	Name string
	// Covers reports whether the abstraction allows an access.
	Covers func(a policy.Access) bool
	// Severity is the highest severity of anything the abstraction
	// grants; it is suggested only when that is no higher than the rules
	// it would replace. Worst is the rule that grants it, as written.
	Severity int
	Worst    string
	// Always suggests it for any program, even when it covers none of the
	// proposed rules (abstractions/base).
	Always bool
}

// minCovered is how many proposed rules an abstraction must cover to be
// suggested.
const minCovered = 2

// suggestAbstractions returns an include suggestion per candidate
// abstraction that covers several of the proposed rules and grants nothing
// more dangerous than they do.
func (p *Proposer) suggestAbstractions(cands []*candidate) []*candidate {
	var out []*candidate
	for _, ab := range p.opts.Abstractions {
		if ab.Covers == nil {
			continue
		}
		var covered []*candidate
		maxSev := -1
		for _, c := range cands {
			grants := c.grants()
			if c.profile != p.name || len(grants) == 0 {
				continue
			}
			all := true
			for _, a := range grants {
				if !ab.Covers(a) {
					all = false
					break
				}
			}
			if all {
				covered = append(covered, c)
				if c.sev > maxSev {
					maxSev = c.sev
				}
			}
		}
		if !ab.Always && (len(covered) < minCovered || ab.Severity > maxSev) {
			continue
		}
		s := &candidate{profile: p.name, node: &profiles.Include{Path: ab.Name, Angle: true}, covers: covered, general: "abstraction", sev: ab.Severity,
			why: abstractionWhy(ab, len(covered))}
		for _, c := range covered {
			s.ev.merge(c.ev)
			s.replaces = append(s.replaces, c.replacesOrSelf()...)
		}
		sort.Strings(s.replaces)
		out = append(out, s)
	}
	return out
}

// replacesOrSelf lists the literal names a candidate stands for.
func (c *candidate) replacesOrSelf() []string {
	if len(c.replaces) > 0 {
		return c.replaces
	}
	if c.path != "" {
		return []string{c.path}
	}
	return nil
}

// abstractionWhy says why an abstraction is proposed and what its severity
// stands for: the rules it replaces, or, for one AppArmor's tools include
// in every profile, that alone; then the most dangerous thing it grants.
func abstractionWhy(ab AbstractionCandidate, covered int) string {
	var why string
	switch {
	case covered > 0:
		why = fmt.Sprintf("allows the %d proposed rule(s) it lists under covers, and nothing rated higher than they are", covered)
	case ab.Always:
		why = "no record asked for it: AppArmor's tools include it in every profile (the C library, locales, /dev/null and the like)"
	}
	if ab.Worst != "" {
		why += fmt.Sprintf("; it grants up to severity %d: %s", ab.Severity, ab.Worst)
	}
	return why
}
