package propose_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
)

// The 6.12 and 7.3 kernels log an mq_open as a file open of a disconnected
// path (name="aatest", not a path). No rule can cover it: learn proposes
// none, counts it apart from the other ignored records and says what to
// do, once per operation and name; the records stay uncovered.
func TestProposeDisconnectedPaths(t *testing.T) {
	tests := []struct {
		file    string
		records int // the capture's disconnected-path records for aatest
	}{
		{"debian-6.12-audit.log", 2},
		{"debian-6.12-kmsg.log", 2},
		{"debian-7.3-audit.log", 2},
		{"debian-7.3-kmsg.log", 2},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var evs []*audit.Event
			for _, e := range readTagged(t, testutil.Corpus(t, "kernel", tc.file), "") {
				if propose.DisconnectedPath(e) && e.ProfileName() == "aatest" {
					evs = append(evs, e)
				}
			}
			require.Len(t, evs, tc.records, "the capture's disconnected-path records")
			for _, e := range evs {
				assert.Empty(t, propose.Accesses(e, "aatest"), "no access a rule could grant: %s:%d", e.Source, e.Line)
			}
			const src = "profile aatest /usr/bin/aatest flags=(complain) {\n  include <abstractions/base>\n}\n"
			f, err := parser.Parse("aatest", []byte(src))
			require.NoError(t, err)
			prop, err := propose.Propose(f, "aatest", evs, propose.ProposeOptions{})
			require.NoError(t, err)
			assert.Empty(t, prop.Rules)
			assert.Equal(t, tc.records, prop.Counts.Disconnected)
			assert.Equal(t, tc.records, prop.Counts.Ignored)
			var notes []string
			for _, w := range prop.Warnings {
				if strings.Contains(w, "disconnected path") {
					notes = append(notes, w)
				}
			}
			require.Len(t, notes, 1, "one note for the one operation and name: %q", prop.Warnings)
			assert.Contains(t, notes[0], `aatest: open of "aatest" (wrc) is of a disconnected path`)
			assert.Contains(t, notes[0], propose.DisconnectedAdvice("aatest"))
		})
	}
}

func TestDisconnectedPath(t *testing.T) {
	tests := []struct {
		name string
		e    audit.Event
		want bool
	}{
		{"the kernel's record", audit.Event{Info: propose.DisconnectedInfo, Name: "aatest", Operation: "open"}, true},
		{"an empty name", audit.Event{Info: propose.DisconnectedInfo, Operation: "open"}, true},
		{"a path: a rule can name it", audit.Event{Info: propose.DisconnectedInfo, Name: "/aatest", Operation: "open"}, false},
		{"another info", audit.Event{Info: "Failed name lookup - deleted entry", Name: "aatest", Operation: "open"}, false},
		{"no info", audit.Event{Name: "aatest", Operation: "open"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, propose.DisconnectedPath(&tc.e))
		})
	}
}
