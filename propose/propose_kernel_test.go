package propose_test

import (
	"bufio"
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// readTagged decodes the lines of a capture whose tag (the capture script's
// "[complain] " prefix) is tag; an empty tag takes every line.
func readTagged(t *testing.T, path, tag string) []*audit.Event {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	d := audit.NewDecoder()
	var out []*audit.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if tag != "" {
			if !bytes.HasPrefix(line, []byte("["+tag+"] ")) {
				continue
			}
			line = line[len(tag)+3:]
		}
		out = append(out, d.Feed(line, path, n)...)
	}
	require.NoError(t, sc.Err())
	return append(out, d.Flush()...)
}

// learnInto learns events into src's profile name and returns the new
// text with every proposed rule accepted.
func learnInto(t *testing.T, src, name string, events []*audit.Event, opts propose.ProposeOptions) (string, *propose.Proposal) {
	t.Helper()
	f, err := parser.Parse("test.profile", []byte(src))
	require.NoError(t, err)
	prop, err := propose.Propose(f, name, events, opts)
	require.NoError(t, err)
	d, err := prop.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	out, err := parser.InsertRules([]byte(src), f, prop.Apply(d), "# learned by aa-flow (test)")
	require.NoError(t, err)
	return string(out), prop
}

// The profile learned from a kernel capture's complain-mode records
// compiles and covers every one of those records.
func TestLearnKernelCaptures(t *testing.T) {
	cases := []struct {
		file, tag, profile string
	}{
		{"debian-6.1-dmesg-scenario.log", "complain", "aatest"},
		{"debian-6.1-dmesg-busybox-workload.log", "", "workload"},
		{"debian-6.1-dmesg-audit1-with-syscall.log", "complain", "aatest"},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			var events []*audit.Event
			for _, e := range readTagged(t, testutil.Corpus(t, "kernel", tc.file), tc.tag) {
				if e.Mode == audit.ModeAllowed { // the complain window
					events = append(events, e)
				}
			}
			require.NotEmpty(t, events)
			src := "profile " + tc.profile + " flags=(complain) {\n}\n"
			out, prop := learnInto(t, src, tc.profile, events, propose.ProposeOptions{})
			require.NotEmpty(t, prop.Rules)
			profiletest.Compile(t, out)
			f, err := parser.Parse("learned", []byte(out))
			require.NoError(t, err)
			pol, err := policy.NewPolicy(f, tc.profile, nil)
			require.NoError(t, err)
			checked, records := 0, 0
			for _, e := range events {
				if e.Mode != audit.ModeAllowed || !strings.HasPrefix(e.ProfileName(), tc.profile) {
					continue
				}
				records++
				for _, a := range propose.Accesses(e, e.ProfileName()) {
					assert.True(t, pol.Covers(a), "%s:%d not covered: %+v", e.Source, e.Line, a)
					checked++
				}
			}
			assert.GreaterOrEqual(t, checked, records, "every record yields an access")
		})
	}
}
