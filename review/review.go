package review

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/aa-flow/aa-flow/internal/termsafe"
	"github.com/aa-flow/aa-flow/parser"
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
	out, err := parser.InsertRules(src, f, chosen, "# learned by aa-flow")
	if err != nil {
		return "", err
	}
	return Unified(path, path+" (proposed)", src, out, color), nil
}

// note is the short annotation of a rule: "r3 sev 7, 12 records". It is
// written into the diff's copy of the profile after the rule, so it must be
// one line: it is escaped whole (see the package comment).
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
	if r.Evidence.Sender != "" {
		s += ", logged by " + r.Evidence.Sender
	}
	if r.Held != "" {
		s += "; held: " + r.Held
	}
	return termsafe.Escape(s)
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
	fmt.Fprintf(&b, "%s: %d new rule", termsafe.Escape(prop.Profile), len(prop.Rules))
	if len(prop.Rules) != 1 {
		b.WriteString("s")
	}
	fmt.Fprintf(&b, " from %d record", c.ForProfile)
	if c.ForProfile != 1 {
		b.WriteString("s")
	}
	ignored := strconv.Itoa(c.Ignored) + " ignored"
	if c.Disconnected > 0 {
		// No rule can cover them, and the gate refuses on them: not
		// ignorable, so named (the warning says what to do).
		ignored += fmt.Sprintf(" (%d of a disconnected path, which no rule can cover: see the warning)", c.Disconnected)
	}
	fmt.Fprintf(&b, " (%d already allowed, %s; %d read, %d for other profiles, %d malformed, %d lost)\n",
		c.Covered, ignored, c.Read, c.Other, c.Malformed, c.Lost)
	if c.Refused > 0 {
		whys := slices.Sorted(maps.Keys(c.RefusedBy))
		for i, why := range whys {
			whys[i] = fmt.Sprintf("%d: %s", c.RefusedBy[why], why)
		}
		fmt.Fprintf(&b, "refused %d line(s) that read like records but are not shown to be the kernel's (%s)\n", c.Refused, strings.Join(whys, "; "))
	}
	for _, w := range prop.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", termsafe.Escape(w))
	}
	for _, prog := range prop.LearningChildren {
		fmt.Fprintf(&b, "incomplete: %s\n", termsafe.Escape(propose.LearningChildNote(prog, prop.Profile)))
	}
	return b.String()
}

// Card is how the interactive review shows one rule.
func Card(r *propose.Rule, color bool) string {
	var b strings.Builder
	head := fmt.Sprintf("[%s] %s", r.ID, termsafe.Escape(r.Text))
	if color {
		head = colBold + head + colReset
	}
	b.WriteString(head)
	if r.Profile != "" && strings.Contains(r.Profile, "//") {
		fmt.Fprintf(&b, "   (in %s)", termsafe.Escape(r.Profile))
	}
	b.WriteString("\n")
	sev := "unknown"
	if r.Severity >= 0 {
		sev = fmt.Sprintf("%d/10", r.Severity)
	}
	fmt.Fprintf(&b, "     severity %s; %s\n", sev, termsafe.Escape(r.Evidence.String()))
	if r.Generalisation != "" && len(r.Replaces) > 0 {
		line := fmt.Sprintf("     suggestion (%s) instead of %d literal rule(s): %s\n", r.Generalisation, max(len(r.Literal), len(r.Replaces)), termsafe.Escape(listPaths(r.Replaces)))
		if r.Explain != nil {
			line = "     " + termsafe.Escape(r.ExplainLine()) + "\n"
		}
		if color {
			line = colDim + line + colReset
		}
		b.WriteString(line)
	}
	if r.Held != "" {
		fmt.Fprintf(&b, "     held: %s\n", termsafe.Escape(r.Held))
	}
	if len(r.Covers) > 0 {
		fmt.Fprintf(&b, "     makes %s unnecessary\n", termsafe.Escape(strings.Join(r.Covers, " ")))
	}
	return b.String()
}

// ErrAborted is returned when the person's input ends before they decided.
var ErrAborted = errors.New("review aborted: input ended before every rule was decided")

const help = `  y  accept this rule                n  reject it
  l  write the literal rules instead of the suggested glob
  e  show the rule's evidence: the raw records it was learned from
  A  accept this and every remaining rule, except held ones (they stay pending)
  N  reject this and every remaining rule
  q  stop here: nothing is written, the undecided rules stay pending
  ?  this help
Enter alone decides nothing.
`

// Options are how Review talks to the person.
type Options struct {
	Color bool
	// Keys reads one key per answer, without Enter (a terminal in raw
	// mode); otherwise one answer per line.
	Keys bool
	// Records returns the raw records behind a rule, for the e key;
	// Records (this package's) when nil.
	Records func(r *propose.Rule) ([]string, error)
}

// answers reads the person's answers: a line, or a single key.
type answers struct {
	out  io.Writer
	keys bool
	rd   *bufio.Reader
}

func (a *answers) ask(prompt string) (string, error) {
	fmt.Fprint(a.out, prompt)
	if a.keys {
		for {
			r, _, err := a.rd.ReadRune()
			if err != nil {
				fmt.Fprintln(a.out)
				if errors.Is(err, io.EOF) {
					return "", ErrAborted
				}
				return "", fmt.Errorf("read answer: %w", err)
			}
			switch r {
			case 0x03, 0x04: // Ctrl-C, Ctrl-D in raw mode
				fmt.Fprintln(a.out)
				return "", ErrAborted
			case '\r', '\n':
				fmt.Fprintln(a.out)
				return "", nil
			}
			if r < 0x20 || r == 0x7f {
				continue
			}
			fmt.Fprintf(a.out, "%c\n", r)
			return string(r), nil
		}
	}
	line, err := a.rd.ReadString('\n')
	if err != nil && (line == "" || !errors.Is(err, io.EOF)) {
		fmt.Fprintln(a.out)
		if errors.Is(err, io.EOF) {
			return "", ErrAborted
		}
		return "", fmt.Errorf("read answer: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// Review asks the person about each rule in ranked order, writing to out,
// then asks whether to write the accepted rules. It returns the decisions
// and that answer. Nothing is decided by accident: Enter alone is no
// answer, and input ending mid-way is ErrAborted. q at any question stops
// with the decisions made so far and writes nothing.
func Review(in io.Reader, out io.Writer, prop *propose.Proposal, o Options) (propose.Decisions, bool, error) {
	a := &answers{out: out, keys: o.Keys, rd: bufio.NewReader(in)}
	records := o.Records
	if records == nil {
		records = Records
	}
	d := propose.Decisions{}
	all := propose.Reject
	decided := false
	for i, r := range prop.Rules {
		if decided {
			if all == propose.Accept && r.Held != "" {
				leftPending(out, r)
				continue
			}
			d[r.ID] = all
			continue
		}
		fmt.Fprintf(out, "\n(%d/%d) %s", i+1, len(prop.Rules), Card(r, o.Color))
		opts := "[y]es [n]o"
		if len(r.Literal) > 0 {
			opts += " [l]iteral"
		}
		opts += " [e]vidence [A]ll [N]one [q]uit [?]: "
	loop:
		for {
			ans, err := a.ask(opts)
			if err != nil {
				return nil, false, err
			}
			switch ans {
			case "y", "yes":
				d[r.ID] = propose.Accept
				break loop
			case "n", "no":
				d[r.ID] = propose.Reject
				break loop
			case "l", "literal":
				if len(r.Literal) == 0 {
					fmt.Fprintln(out, "  this rule has no literal alternative")
					continue
				}
				d[r.ID] = propose.Literal
				break loop
			case "e", "evidence":
				showRecords(out, r, records)
			case "A":
				all, decided = propose.Accept, true
				if r.Held != "" {
					leftPending(out, r)
					break loop
				}
				d[r.ID] = all
				break loop
			case "N":
				all, decided = propose.Reject, true
				d[r.ID] = all
				break loop
			case "q", "quit":
				fmt.Fprintln(out, "Stopped.")
				return d, false, nil
			case "":
				fmt.Fprintln(out, "  no default: y accepts, n rejects, ? lists every answer")
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
		ans, err := a.ask(fmt.Sprintf("\nWrite %d rule line(s) into %s? [y/N/q]: ", n, prop.Profile))
		if err != nil {
			return nil, false, err
		}
		switch strings.ToLower(ans) {
		case "y", "yes":
			return d, true, nil
		case "", "n", "no", "q", "quit":
			return d, false, nil
		}
	}
}

// leftPending says that A left a held rule pending, as --yes and --all do:
// only y (or apply --accept) takes it.
func leftPending(out io.Writer, r *propose.Rule) {
	fmt.Fprintf(out, "  %s left pending (A does not take a held rule; y does): %s\n", r.ID, termsafe.Escape(r.Held))
}

// showRecords prints a rule's raw records, escaped for the terminal, and
// how many more there are than the evidence kept.
func showRecords(out io.Writer, r *propose.Rule, records func(*propose.Rule) ([]string, error)) {
	fmt.Fprintf(out, "  %s\n", termsafe.Escape(r.Evidence.String()))
	lines, err := records(r)
	if err != nil {
		fmt.Fprintf(out, "  (the records cannot be shown: %s)\n", termsafe.Escape(err.Error()))
		return
	}
	for _, l := range lines {
		fmt.Fprintf(out, "  | %s\n", termsafe.Escape(l))
	}
	if rest := r.Evidence.Count - len(lines); rest > 0 {
		more := fmt.Sprintf("aa-flow logs %s shows them", r.Profile)
		if f, _, ok := fileLine(r.Evidence.Source); ok {
			more = fmt.Sprintf("aa-flow logs %s --from %s shows them", r.Profile, f)
		}
		fmt.Fprintf(out, "  ... and %d more record(s) not kept with the proposal; %s\n", rest, termsafe.Escape(more))
	}
}

// maxRecord is the longest record line Records reads.
const maxRecord = 64 << 10

// fileLine splits a "FILE:LINE" evidence source.
func fileLine(src string) (string, int, bool) {
	i := strings.LastIndexByte(src, ':')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.Atoi(src[i+1:])
	if err != nil || n < 1 {
		return "", 0, false
	}
	return src[:i], n, true
}

// Records reads the records a rule was learned from again, where its
// evidence says they were read: the lines of a log file (Evidence.Lines,
// at most propose.MaxLines of them, or the first record's line). Other
// sources (journald, kmsg, a compressed or piped log) are not read again.
func Records(r *propose.Rule) ([]string, error) {
	src := r.Evidence.Source
	file, first, ok := fileLine(src)
	if !ok {
		return nil, fmt.Errorf("records from %s are not kept; aa-flow logs %s shows them", src, r.Profile)
	}
	if strings.HasSuffix(file, ".gz") || file == "-" {
		return nil, fmt.Errorf("records from %s are not read again; aa-flow logs %s --from %s shows them", file, r.Profile, file)
	}
	want := slices.Compact(slices.Sorted(slices.Values(r.Evidence.Lines)))
	if len(want) == 0 {
		want = []int{first}
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rd := bufio.NewReaderSize(f, 64<<10)
	out := make([]string, 0, len(want))
	for line := 1; len(out) < len(want); line++ {
		text, err := rd.ReadString('\n')
		if line == want[len(out)] && (err == nil || text != "") {
			if len(text) > maxRecord {
				text = text[:maxRecord]
			}
			out = append(out, strings.TrimRight(text, "\r\n"))
		}
		if err != nil && len(out) < len(want) {
			return nil, fmt.Errorf("%s has no line %d (rotated since?)", file, want[len(out)])
		}
	}
	return out, nil
}
