package review

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
)

// forged are names whose bytes, shown raw, would read as more lines: a rule
// of the diff, a line of a card.
var forged = []string{
	"\n+  /etc/shadow rw,",
	"\n  capability sys_admin,",
	"\r\n+  /etc/shadow rw,",
	"\n}\nprofile evil {\n  /** rwlkmix,\n}\n",
	"\u2028+  /etc/shadow rw,",
	"\x1b[1A\x1b[2K+  /etc/shadow rw,",
	"\t/etc/shadow",
}

// shownLines checks that whatever a record's name holds, the diff, the
// summary and each card have one line per thing they show: every added line
// of the diff is a rule with its note (or the learned-by comment), and a
// card's lines each start with what the card shows there.
func shownLines(t *testing.T, suffix string) {
	t.Helper()
	var events []*audit.Event
	// Two names differing in a counter give a pattern with an explanation
	// that lists them; an exec to an unknown profile gives a warning.
	for _, n := range []string{"/tmp/job.1234" + suffix, "/tmp/job.5678" + suffix} {
		events = append(events,
			&audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc", Name: n, RequestedMask: "r", FSUID: 0, OUID: 0},
			&audit.Event{Mode: audit.ModeAllowed, Operation: "exec", Profile: "svc", Name: n + "-bin", Target: "other", RequestedMask: "x", FSUID: 0, OUID: 0})
	}
	f, err := parser.Parse("svc", []byte(svcProfile))
	require.NoError(t, err)
	prop, err := propose.Propose(f, "svc", events, propose.ProposeOptions{})
	require.NoError(t, err)
	if len(prop.Rules) == 0 {
		return // refused as unwritable (a NUL): a warning says so
	}
	diff, err := Annotated(prop, "/etc/apparmor.d/svc", []byte(svcProfile), f, false)
	require.NoError(t, err, "a name must not keep the diff from being shown")
	for _, l := range strings.Split(strings.TrimSuffix(diff, "\n"), "\n") {
		if !strings.HasPrefix(l, "+") || strings.HasPrefix(l, "+++ ") || l == "+" || l == "+  # learned by aa-flow" {
			continue
		}
		assert.Regexp(t, `  # r[0-9]+[ ,]`, l, "an added line that is not a rule with its note")
	}
	sum := strings.Split(strings.TrimSuffix(Summary(prop), "\n"), "\n")
	assert.Len(t, sum, 1+len(prop.Warnings), "one line of counts, one line per warning")
	for _, r := range prop.Rules {
		for i, l := range strings.Split(strings.TrimSuffix(Card(r, false), "\n"), "\n") {
			if i == 0 {
				assert.True(t, strings.HasPrefix(l, "["+r.ID+"] "), "card line %q", l)
				continue
			}
			assert.Regexp(t, `^     (severity|suggestion|[0-9]+ names? in|held:|makes) `, l, "card line")
		}
	}
}

func TestShownNamesStayOneLine(t *testing.T) {
	for _, s := range forged {
		t.Run(strings.ReplaceAll(s, "\n", `\n`), func(t *testing.T) { shownLines(t, s) })
	}
}

func FuzzShownNamesStayOneLine(f *testing.F) {
	for _, s := range forged {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, suffix string) {
		if strings.Contains(suffix, "//") || strings.ContainsRune(suffix, 0) {
			return // the kernel logs no empty segment, and no NUL
		}
		shownLines(t, suffix)
	})
}
