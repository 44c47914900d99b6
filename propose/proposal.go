package propose

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/templates"
)

// Proposal is what learning found: the rules a profile needs that it does
// not have yet, ranked (highest severity first), each with its evidence.
// It is saved as proposal.json in the profile's state directory and read
// back by diff, review and apply.
type Proposal struct {
	Profile string `json:"profile"`
	// ProfileFile is the profile file the proposal was made against.
	ProfileFile string    `json:"profile_file,omitempty"`
	Created     time.Time `json:"created"`
	Counts      Counts    `json:"counts"`
	Rules       []*Rule   `json:"rules"`
	// Warnings are records that could not become rules (a name that
	// cannot be written safely, an unknown class), one line each.
	Warnings []string `json:"warnings,omitempty"`
	// LearningChildren are the programs whose records came from complain
	// mode's null- profile (LearningChild): they ran without an exec rule,
	// and that profile does not log their network use, so the records do
	// not show all they do (see LearningChildNote).
	LearningChildren []string `json:"learning_children,omitempty"`
}

// Complete reports whether the records can show the profile is complete:
// no program ran under a null- profile (LearningChildren).
func (p *Proposal) Complete() bool {
	return len(p.LearningChildren) == 0
}

// Counts say what happened to the records.
type Counts struct {
	Read       int `json:"read"`        // records seen
	ForProfile int `json:"for_profile"` // records about this profile, its hats and children
	Covered    int `json:"covered"`     // of those, already allowed by the profile
	Ignored    int `json:"ignored"`     // status records and records no rule can grant
	// Optional counts the ignored records the kernel marked as optional
	// requests (info="optional: no audit"; see Optional).
	Optional int `json:"optional,omitempty"`
	// Disconnected counts the ignored records of a disconnected path
	// (see DisconnectedPath): no rule can cover them, and the gate
	// refuses while they are logged.
	Disconnected int `json:"disconnected,omitempty"`
	Other        int `json:"other"`      // records about other profiles
	Unwritable   int `json:"unwritable"` // records whose names cannot be written safely
	Malformed    int `json:"malformed"`  // lines that were not valid records (set by the reader)
	Lost         int `json:"lost"`       // records the kernel or the reader lost (set by the reader)
	// Refused counts the lines that read like records but are not shown to
	// be the kernel's (set by the reader), RefusedBy by why.
	Refused   int            `json:"refused,omitempty"`
	RefusedBy map[string]int `json:"refused_by,omitempty"`
}

// Rule is one proposed rule.
type Rule struct {
	// ID is short and stable within the proposal: r1, r2, ... in ranked
	// order.
	ID string `json:"id"`
	// Profile is the (sub)profile the rule goes into, by its kernel name
	// ("svc", "svc//hat").
	Profile string        `json:"profile"`
	Kind    profiles.Kind `json:"kind"`
	// Text is the rule as it will be written (one line, no indentation).
	Text string `json:"text"`
	// Generalisation names the shapes aa-flow inferred when Text is a
	// pattern of its own ("epoch", "pid", "counter+mktemp", "siblings",
	// "tree"; GenPerson for the person's pattern), and Literal holds the
	// literal rules it replaces, which the person can choose instead;
	// Replaces lists the literal paths.
	Generalisation string   `json:"generalisation,omitempty"`
	Literal        []string `json:"literal,omitempty"`
	Replaces       []string `json:"replaces,omitempty"`
	// Covers lists the IDs of the proposed rules an abstraction makes
	// unnecessary.
	Covers []string `json:"covers,omitempty"`
	// Explain says what a generalised rule stands for.
	Explain *Explanation `json:"explain,omitempty"`
	// Held says why --yes and --all leave the rule pending: a pattern
	// rated HeldSeverity or more that reaches further than its records.
	// It is written only when the person names it.
	Held string `json:"held,omitempty"`
	// Severity is severity.db's rating, 0..10, -1 when unknown.
	Severity int `json:"severity"`
	// Child is the kernel name of a child profile the proposal creates,
	// on the rule that is that child (an empty `profile NAME { }`) and on
	// the cx rule that runs a program in it: Apply writes the child with
	// every accepted rule that needs it (a cx rule, or a rule of the
	// child's own), since a cx rule whose child is missing fails the
	// exec, in complain mode too.
	Child string `json:"child,omitempty"`
	// Why says why the rule is proposed and what its severity stands for,
	// where the rule and its evidence do not (an abstraction).
	Why      string   `json:"why,omitempty"`
	Evidence Evidence `json:"evidence"`
}

// kindRank orders kinds inside one severity: what people read first.
var kindRank = map[profiles.Kind]int{profiles.KindInclude: 0, profiles.KindCapability: 1, profiles.KindFile: 2, profiles.KindLink: 3, profiles.KindNetwork: 4, profiles.KindClass: 5, profiles.KindChangeProfile: 6, profiles.KindProfile: 7}

// rank sorts the rules (highest severity first, then main profile before
// hats, then kind and text) and numbers them.
func (p *Proposal) rank() {
	sort.SliceStable(p.Rules, func(i, j int) bool {
		a, b := p.Rules[i], p.Rules[j]
		if a.Severity != b.Severity {
			return a.Severity > b.Severity
		}
		if a.Profile != b.Profile {
			return a.Profile < b.Profile
		}
		if kindRank[a.Kind] != kindRank[b.Kind] {
			return kindRank[a.Kind] < kindRank[b.Kind]
		}
		return a.Text < b.Text
	})
	for i, r := range p.Rules {
		r.ID = "r" + strconv.Itoa(i+1)
	}
}

// finish renders and packs a candidate.
func (p *Proposer) finish(c *candidate) (*Rule, error) {
	text, err := templates.RenderLine(c.node)
	if err != nil {
		return nil, fmt.Errorf("render rule for %s: %w", c.profile, err)
	}
	r := &Rule{Profile: c.profile, Kind: c.node.Kind(), Text: text, Generalisation: c.general, Replaces: c.replaces, Evidence: c.ev, Severity: c.sev,
		Explain: c.explain, Held: c.held, Why: c.why, Child: c.child}
	for _, l := range c.literals {
		lt, err := templates.RenderLine(l)
		if err != nil {
			return nil, fmt.Errorf("render literal rule for %s: %w", c.profile, err)
		}
		r.Literal = append(r.Literal, lt)
	}
	c.rule = r
	return r, nil
}

// Held lists the rules --yes and --all leave pending (Rule.Held).
func (p *Proposal) Held() []*Rule {
	var out []*Rule
	for _, r := range p.Rules {
		if r.Held != "" {
			out = append(out, r)
		}
	}
	return out
}

// Find returns the rule with the given ID, or nil.
func (p *Proposal) Find(id string) *Rule {
	for _, r := range p.Rules {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// Marshal is the proposal as indented JSON, for proposal.json and --json.
func (p *Proposal) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode proposal: %w", err)
	}
	return append(b, '\n'), nil
}

// UnmarshalProposal reads a proposal saved by Marshal; name is used in
// errors.
func UnmarshalProposal(name string, data []byte) (*Proposal, error) {
	var p Proposal
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("read proposal %s: %w", name, err)
	}
	seen := map[string]bool{}
	for i, r := range p.Rules {
		if r == nil || r.ID == "" || r.Text == "" {
			return nil, fmt.Errorf("read proposal %s: rule %d has no id or text", name, i+1)
		}
		if seen[r.ID] {
			return nil, fmt.Errorf("read proposal %s: rule id %s appears twice", name, r.ID)
		}
		seen[r.ID] = true
		if strings.ContainsAny(r.Text, "\n\r") {
			return nil, fmt.Errorf("read proposal %s: rule %s spans lines", name, r.ID)
		}
	}
	return &p, nil
}

// Explanation is what a generalised rule stands for, for the person to
// judge it: the literal alternative is the rule's Literal.
type Explanation struct {
	// Names is how many distinct logged names the pattern covers (the
	// records are the rule's Evidence.Count).
	Names int `json:"names"`
	// Examples are up to three of the names.
	Examples []string `json:"examples"`
	// Shapes are the volatile shapes inferred, outermost first; none for
	// the person's own pattern.
	Shapes []string `json:"shapes,omitempty"`
}

// ExplainLine is the rule's explanation as one line: "3 names in 12 records,
// inferred epoch, e.g. /a /b /c; literal: ..."; "" for a rule that is not
// generalised.
func (r *Rule) ExplainLine() string {
	e := r.Explain
	if e == nil {
		return ""
	}
	s := fmt.Sprintf("%d name", e.Names)
	if e.Names != 1 {
		s += "s"
	}
	s += fmt.Sprintf(" in %d record", r.Evidence.Count)
	if r.Evidence.Count != 1 {
		s += "s"
	}
	switch {
	case len(e.Shapes) > 0:
		s += ", inferred " + strings.Join(e.Shapes, ", ")
	case r.Generalisation == GenPerson:
		s += ", your pattern"
	}
	s += ", e.g. " + strings.Join(e.Examples, " ")
	switch {
	case len(r.Literal) == 1:
		s += "; literal: " + r.Literal[0]
	case len(r.Literal) > 1:
		s += fmt.Sprintf("; literal: %d rules (--literal %s)", len(r.Literal), r.ID)
	default:
		s += fmt.Sprintf("; literal: %d rules, too many to offer (learn --literal writes names as they are)", e.Names)
	}
	return s
}

// Choice is what the person decided for one rule.
type Choice int

// The choices.
const (
	Reject  Choice = iota // not written
	Accept                // written as proposed
	Literal               // the literal rules instead of the suggested glob
)

// Decisions maps rule IDs to choices; a rule not in the map is rejected.
type Decisions map[string]Choice

// Selection is apply's command line: --all, --only, --except, --literal,
// --accept. --all and --except never take a held rule (Rule.Held): only
// naming it does (--only, --accept, --literal).
type Selection struct {
	All     bool
	Only    []string
	Except  []string
	Literal []string
	Accept  []string
}

// Decide turns a selection into decisions, refusing IDs the proposal does
// not have.
func (p *Proposal) Decide(s Selection) (Decisions, error) {
	for _, list := range [][]string{s.Only, s.Except, s.Literal, s.Accept} {
		for _, id := range list {
			if p.Find(id) == nil {
				return nil, fmt.Errorf("no rule %s in the proposal for %s (see aa-flow diff %s)", id, p.Profile, p.Profile)
			}
		}
	}
	if len(s.Only) > 0 && (s.All || len(s.Except) > 0) {
		return nil, fmt.Errorf("--only cannot be combined with --all or --except")
	}
	d := Decisions{}
	in := func(list []string, id string) bool {
		for _, x := range list {
			if x == id {
				return true
			}
		}
		return false
	}
	for _, r := range p.Rules {
		named := in(s.Literal, r.ID) || in(s.Accept, r.ID)
		take := (s.All || len(s.Except) > 0) && r.Held == "" || named
		if len(s.Only) > 0 {
			take = in(s.Only, r.ID) || named
		}
		if in(s.Except, r.ID) {
			take = false
		}
		if !take {
			continue
		}
		d[r.ID] = Accept
		if in(s.Literal, r.ID) {
			if len(r.Literal) == 0 {
				return nil, fmt.Errorf("rule %s has no literal alternative (it is not a generalisation, or stands for too many names: learn --literal writes them as they are)", r.ID)
			}
			d[r.ID] = Literal
		}
	}
	return d, nil
}

// Apply lists the rule texts to write for the decisions, in ranked order.
// Rules an accepted abstraction covers are left out: the include grants
// them.
func (p *Proposal) Apply(d Decisions) []profiles.Chosen {
	coveredBy := map[string]bool{}
	for _, r := range p.Rules {
		if d[r.ID] == Accept {
			for _, c := range r.Covers {
				coveredBy[c] = true
			}
		}
	}
	// The children the accepted rules need (Rule.Child).
	need := map[string]bool{}
	for _, r := range p.Rules {
		if ch, ok := d[r.ID]; ok && ch != Reject && !coveredBy[r.ID] {
			need[r.Profile] = true
			if r.Child != "" {
				need[r.Child] = true
			}
		}
	}
	var out []profiles.Chosen
	for _, r := range p.Rules {
		ch, ok := d[r.ID]
		if r.Kind == profiles.KindProfile && r.Child != "" && need[r.Child] {
			ch, ok = Accept, true
		}
		if !ok || ch == Reject || coveredBy[r.ID] {
			continue
		}
		if ch == Literal && len(r.Literal) > 0 {
			for _, l := range r.Literal {
				out = append(out, profiles.Chosen{Profile: r.Profile, Text: l, IDs: []string{r.ID}})
			}
			continue
		}
		out = append(out, profiles.Chosen{Profile: r.Profile, Text: r.Text, IDs: []string{r.ID}})
	}
	return out
}
