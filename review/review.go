package review

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
)

// maxShown is how many literal paths a suggestion lists before "and N more".
const maxShown = 5

// Annotated returns the proposal as the profile file's unified diff with
// every proposed rule accepted, each added line followed by a comment with
// its ID, severity and record count; generalisations also name the literal
// paths they replace. It is what learn and diff print. src is the current
// profile file and f its parse.
func Annotated(prop *propose.Proposal, path string, src []byte, f *profiles.File, color bool) (string, error) {
	d := propose.Decisions{}
	for _, r := range prop.Rules {
		d[r.ID] = propose.Accept
	}
	chosen := prop.Apply(d)
	for i := range chosen {
		chosen[i].Text += "  # " + note(prop.Find(chosen[i].IDs[0]))
	}
	out, err := profiles.InsertRules(src, f, chosen, "# learned by aa-flow")
	if err != nil {
		return "", err
	}
	return Unified(path, path+" (proposed)", src, out, color), nil
}

// note is the short annotation of a rule: "r3 sev 7, 12 records".
func note(r *propose.Rule) string {
	s := r.ID
	if r.Severity >= 0 {
		s += fmt.Sprintf(" sev %d", r.Severity)
	}
	s += fmt.Sprintf(", %d record", r.Evidence.Count)
	if r.Evidence.Count != 1 {
		s += "s"
	}
	switch {
	case len(r.Covers) > 0:
		s += ", covers " + strings.Join(r.Covers, " ")
	case r.Explain != nil:
		s += ", " + r.ExplainLine()
	case r.Generalisation != "" && len(r.Replaces) > 0:
		s += fmt.Sprintf(", %s replaces %s", r.Generalisation, listPaths(r.Replaces))
	case r.Generalisation != "":
		s += ", " + r.Generalisation
	}
	if r.Held != "" {
		s += "; held: " + r.Held
	}
	return s
}

func listPaths(ps []string) string {
	if len(ps) <= maxShown {
		return strings.Join(ps, " ")
	}
	return strings.Join(ps[:maxShown], " ") + fmt.Sprintf(" and %d more", len(ps)-maxShown)
}

// Summary is one paragraph on what the records gave: counts and warnings.
func Summary(prop *propose.Proposal) string {
	c := prop.Counts
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d new rule", prop.Profile, len(prop.Rules))
	if len(prop.Rules) != 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " from %d record", c.ForProfile)
	if c.ForProfile != 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " (%d already allowed, %d ignored; %d read, %d for other profiles, %d malformed, %d lost)\n",
		c.Covered, c.Ignored, c.Read, c.Other, c.Malformed, c.Lost)
	for _, w := range prop.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}

// Card is how the interactive review shows one rule.
func Card(r *propose.Rule, color bool) string {
	var b strings.Builder
	head := fmt.Sprintf("[%s] %s", r.ID, r.Text)
	if color {
		head = colBold + head + colReset
	}
	b.WriteString(head)
	if r.Profile != "" && strings.Contains(r.Profile, "//") {
		fmt.Fprintf(&b, "   (in %s)", r.Profile)
	}
	b.WriteString("\n")
	sev := "unknown"
	if r.Severity >= 0 {
		sev = fmt.Sprintf("%d/10", r.Severity)
	}
	fmt.Fprintf(&b, "     severity %s; %s\n", sev, r.Evidence)
	if r.Generalisation != "" && len(r.Replaces) > 0 {
		line := fmt.Sprintf("     suggestion (%s) instead of %d literal rule(s): %s\n", r.Generalisation, max(len(r.Literal), len(r.Replaces)), listPaths(r.Replaces))
		if r.Explain != nil {
			line = "     " + r.ExplainLine() + "\n"
		}
		if color {
			line = colDim + line + colReset
		}
		b.WriteString(line)
	}
	if r.Held != "" {
		fmt.Fprintf(&b, "     held: %s\n", r.Held)
	}
	if len(r.Covers) > 0 {
		fmt.Fprintf(&b, "     makes %s unnecessary\n", strings.Join(r.Covers, " "))
	}
	return b.String()
}

// ErrAborted is returned when the person's input ends before they decided.
var ErrAborted = errors.New("review aborted: input ended before every rule was decided")

const help = `  y  accept this rule (Enter)       n  reject it
  l  write the literal rules instead of the suggested glob
  A  accept this and every remaining rule
  N  reject this and every remaining rule
  q  stop here (the rest are rejected)
  ?  this help
`

// Review asks the person about each rule in ranked order, reading one
// answer per line from in and writing to out, then asks whether to write
// the accepted rules. It returns the decisions and that answer. Input
// ending mid-way is ErrAborted: nothing is decided by accident.
func Review(in io.Reader, out io.Writer, prop *propose.Proposal, color bool) (propose.Decisions, bool, error) {
	sc := bufio.NewScanner(in)
	d := propose.Decisions{}
	ask := func(prompt string) (string, error) {
		fmt.Fprint(out, prompt)
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return "", fmt.Errorf("read answer: %w", err)
			}
			fmt.Fprintln(out)
			return "", ErrAborted
		}
		return strings.TrimSpace(sc.Text()), nil
	}
	all := propose.Reject
	decided := false
	for i, r := range prop.Rules {
		if decided {
			d[r.ID] = all
			continue
		}
		fmt.Fprintf(out, "\n(%d/%d) %s", i+1, len(prop.Rules), Card(r, color))
		opts := "[y]es [n]o"
		if len(r.Literal) > 0 {
			opts += " [l]iteral"
		}
		opts += " [A]ll [N]one [q]uit [?]: "
	loop:
		for {
			ans, err := ask(opts)
			if err != nil {
				return nil, false, err
			}
			switch ans {
			case "", "y", "yes", "a":
				d[r.ID] = propose.Accept
				break loop
			case "n", "no", "r":
				d[r.ID] = propose.Reject
				break loop
			case "l", "literal":
				if len(r.Literal) == 0 {
					fmt.Fprintln(out, "  this rule has no literal alternative")
					continue
				}
				d[r.ID] = propose.Literal
				break loop
			case "A":
				all, decided = propose.Accept, true
				d[r.ID] = all
				break loop
			case "N":
				all, decided = propose.Reject, true
				d[r.ID] = all
				break loop
			case "q", "quit":
				all, decided = propose.Reject, true
				d[r.ID] = propose.Reject
				break loop
			default:
				fmt.Fprint(out, help)
			}
		}
	}
	n := len(prop.Apply(d))
	if n == 0 {
		fmt.Fprintln(out, "\nNo rules accepted; the profile is unchanged.")
		return d, false, nil
	}
	for {
		ans, err := ask(fmt.Sprintf("\nWrite %d rule line(s) into %s? [y/N]: ", n, prop.Profile))
		if err != nil {
			return nil, false, err
		}
		switch strings.ToLower(ans) {
		case "y", "yes":
			return d, true, nil
		case "", "n", "no":
			return d, false, nil
		}
	}
}
