package review

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
)

func sample() *propose.Proposal {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	return &propose.Proposal{Profile: "svc", Counts: propose.Counts{Read: 1200, ForProfile: 1100, Covered: 90}, Rules: []*propose.Rule{
		{ID: "r1", Profile: "svc", Kind: profiles.KindCapability, Text: "capability net_bind_service,", Severity: 8,
			Evidence: propose.Evidence{Count: 1, First: t0, Last: t0, Comm: "svc", PID: 10, Source: "audit.log:3"}},
		{ID: "r2", Profile: "svc", Kind: profiles.KindFile, Text: "owner @{PROC}/@{pid}/stat r,", Severity: 6, Generalisation: propose.GenProcPID,
			Literal: []string{"owner /proc/1/stat r,", "owner /proc/2/stat r,"}, Replaces: []string{"/proc/1/stat", "/proc/2/stat"},
			Evidence: propose.Evidence{Count: 1000, First: t0, Last: t0.Add(time.Hour), Comm: "svc", PID: 10, Source: "audit.log:4"}},
		{ID: "r3", Profile: "svc//worker", Kind: profiles.KindFile, Text: "/etc/hostname r,", Severity: 2,
			Evidence: propose.Evidence{Count: 9, First: t0, Last: t0, Comm: "worker", PID: 11, Source: "audit.log:5"}},
	}}
}

const svcProfile = "include <tunables/global>\n\nprofile svc {\n  # mine\n  /etc/svc.conf r,\n}\n"

func TestAnnotatedGolden(t *testing.T) {
	f, err := parser.Parse("svc", []byte(svcProfile))
	require.NoError(t, err)
	got, err := Annotated(sample(), "/etc/apparmor.d/svc", []byte(svcProfile), f, false)
	require.NoError(t, err)
	got += Summary(sample())
	testutil.Golden(t, filepath.Join("testdata", "annotated.golden"), []byte(got))
}

func TestReviewScripted(t *testing.T) {
	cases := []struct {
		name    string
		answers string
		want    propose.Decisions
		apply   bool
		lines   []string
		err     error
	}{
		{"accept, literal, reject, write", "y\nl\nn\ny\n", propose.Decisions{"r1": propose.Accept, "r2": propose.Literal, "r3": propose.Reject}, true,
			[]string{"capability net_bind_service,", "owner /proc/1/stat r,", "owner /proc/2/stat r,"}, nil},
		{"enter decides nothing, then all", "\n\nA\ny\n", propose.Decisions{"r1": propose.Accept, "r2": propose.Accept, "r3": propose.Accept}, true,
			[]string{"capability net_bind_service,", "owner @{PROC}/@{pid}/stat r,", "/etc/hostname r,"}, nil},
		{"help and a bad literal are asked again", "?\nl\nn\nq\n", propose.Decisions{"r1": propose.Reject}, false, nil, nil},
		{"none", "N\n", propose.Decisions{"r1": propose.Reject, "r2": propose.Reject, "r3": propose.Reject}, false, nil, nil},
		{"decline writing", "A\nn\n", propose.Decisions{"r1": propose.Accept, "r2": propose.Accept, "r3": propose.Accept}, false,
			[]string{"capability net_bind_service,", "owner @{PROC}/@{pid}/stat r,", "/etc/hostname r,"}, nil},
		{"q at the last question writes nothing", "A\nq\n", propose.Decisions{"r1": propose.Accept, "r2": propose.Accept, "r3": propose.Accept}, false,
			[]string{"capability net_bind_service,", "owner @{PROC}/@{pid}/stat r,", "/etc/hostname r,"}, nil},
		{"q stops at once", "y\nq\n", propose.Decisions{"r1": propose.Accept}, false,
			[]string{"capability net_bind_service,"}, nil},
		{"enter at the last question is no", "A\n\n", propose.Decisions{"r1": propose.Accept, "r2": propose.Accept, "r3": propose.Accept}, false,
			[]string{"capability net_bind_service,", "owner @{PROC}/@{pid}/stat r,", "/etc/hostname r,"}, nil},
		{"input ends", "y\n", nil, false, nil, ErrAborted},
		{"enter only", "\n\n\n", nil, false, nil, ErrAborted},
		{"input ends at the last question", "A\n", nil, false, nil, ErrAborted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			prop := sample()
			d, apply, err := Review(strings.NewReader(tc.answers), &out, prop, Options{})
			if tc.err != nil {
				assert.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, d)
			assert.Equal(t, tc.apply, apply)
			var lines []string
			for _, c := range prop.Apply(d) {
				lines = append(lines, c.Text)
			}
			assert.Equal(t, tc.lines, lines)
			assert.Contains(t, out.String(), "(1/3) [r1] capability net_bind_service,\n     severity 8/10; 1 record")
			if a := strings.TrimLeft(tc.answers, "\n"); !strings.HasPrefix(a, "N") && !strings.HasPrefix(a, "A") {
				assert.Contains(t, out.String(), "[r2] owner @{PROC}/@{pid}/stat r,")
				assert.Contains(t, out.String(), "suggestion (pid) instead of 2 literal rule(s): /proc/1/stat /proc/2/stat")
			}
		})
	}
}

// On a terminal each answer is one key, Enter decides nothing, Ctrl-C
// aborts, and e shows the rule's raw record, escaped.
func TestReviewKeys(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(log, []byte("line one\ntype=AVC msg=audit(1.0:1): apparmor=\"ALLOWED\" name=\"/tmp/\x1b[2Jx\"\n"), 0o644))
	prop := sample()
	prop.Rules[0].Evidence.Source = log + ":2"
	var out strings.Builder
	d, apply, err := Review(strings.NewReader("\rey\rnNy"), &out, prop, Options{Keys: true})
	require.NoError(t, err)
	assert.True(t, apply)
	assert.Equal(t, propose.Decisions{"r1": propose.Accept, "r2": propose.Reject, "r3": propose.Reject}, d)
	assert.Contains(t, out.String(), "no default: y accepts")
	assert.Contains(t, out.String(), `  | type=AVC msg=audit(1.0:1): apparmor="ALLOWED" name="/tmp/\x1b[2Jx"`)
	assert.NotContains(t, out.String(), "\x1b[2J")

	_, _, err = Review(strings.NewReader("y\x03"), &out, sample(), Options{Keys: true})
	assert.ErrorIs(t, err, ErrAborted)
}

func TestRecords(t *testing.T) {
	r := &propose.Rule{Profile: "svc", Evidence: propose.Evidence{Source: "journald"}}
	_, err := Records(r)
	assert.ErrorContains(t, err, "aa-flow logs svc")
	r.Evidence.Source = filepath.Join(t.TempDir(), "gone.log") + ":3"
	_, err = Records(r)
	assert.Error(t, err)
}

// TestSummaryRefused: learn's summary says how many lines were refused as
// not the kernel's, and why.
func TestSummaryRefused(t *testing.T) {
	p := &propose.Proposal{Profile: "svc", Counts: propose.Counts{Refused: 3, RefusedBy: map[string]int{
		"a syslog line from a program other than the kernel":        2,
		"the message does not start with the kernel's audit prefix": 1,
	}}}
	assert.Contains(t, Summary(p), "refused 3 line(s) that read like records but are not shown to be the kernel's "+
		"(2: a syslog line from a program other than the kernel; 1: the message does not start with the kernel's audit prefix)")
	assert.NotContains(t, Summary(&propose.Proposal{Profile: "svc"}), "refused")
}

// Records reads every line the evidence kept, in order, each once.
func TestRecordsEveryLine(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(log, []byte("one\ntwo\nthree\nfour\n"), 0o644))
	r := &propose.Rule{Profile: "svc", Evidence: propose.Evidence{Count: 5, Source: log + ":2", Lines: []int{4, 2, 4}}}
	got, err := Records(r)
	require.NoError(t, err)
	assert.Equal(t, []string{"two", "four"}, got)
	var out strings.Builder
	showRecords(&out, r, Records)
	assert.Contains(t, out.String(), "  | two\n  | four\n  ... and 3 more record(s) not kept with the proposal; aa-flow logs svc --from "+log+" shows them\n")

	r.Evidence.Lines = []int{2, 7}
	_, err = Records(r)
	assert.ErrorContains(t, err, "has no line 7")
}

// A accepts the rest but never a held rule, at the question or after it:
// held rules stay pending with a line saying why, as with --yes.
func TestReviewAllLeavesHeld(t *testing.T) {
	held := func() *propose.Proposal {
		p := sample()
		p.Rules[1].Held = "rated 10: the pattern reaches more than the 2 name(s) it was learned from"
		return p
	}
	tests := []struct {
		name, in string
		want     propose.Decisions
		apply    bool
	}{
		{"A before the held rule", "Ay\n", propose.Decisions{"r1": propose.Accept, "r3": propose.Accept}, true},
		{"A at the held rule", "yAy\n", propose.Decisions{"r1": propose.Accept, "r3": propose.Accept}, true},
		{"y takes it", "yyAy", propose.Decisions{"r1": propose.Accept, "r2": propose.Accept, "r3": propose.Accept}, true},
		{"N still rejects it", "N\n", propose.Decisions{"r1": propose.Reject, "r2": propose.Reject, "r3": propose.Reject}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out strings.Builder
			d, apply, err := Review(strings.NewReader(tc.in), &out, held(), Options{Keys: true})
			require.NoError(t, err)
			assert.Equal(t, tc.want, d)
			assert.Equal(t, tc.apply, apply)
			if _, ok := tc.want["r2"]; !ok {
				assert.Contains(t, out.String(), "r2 left pending (A does not take a held rule; y does): rated 10: the pattern reaches more")
			}
		})
	}
}

// TestSummaryDisconnected: the summary names the ignored records of a
// disconnected path, which no rule can cover, and only when there are some.
func TestSummaryDisconnected(t *testing.T) {
	tests := []struct {
		name   string
		counts propose.Counts
		want   string
	}{
		{"some", propose.Counts{ForProfile: 3, Ignored: 3, Disconnected: 2}, "3 ignored (2 of a disconnected path, which no rule can cover: see the warning);"},
		{"none", propose.Counts{ForProfile: 3, Ignored: 3}, "3 ignored;"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Contains(t, Summary(&propose.Proposal{Profile: "svc", Counts: tc.counts}), tc.want)
		})
	}
}
