package review

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aa-flow/aa-flow/propose"
)

func TestNote(t *testing.T) {
	tests := []struct {
		name string
		rule propose.Rule
		want string
	}{
		{"plain", propose.Rule{ID: "r1", Severity: 7, Evidence: propose.Evidence{Count: 12}}, "r1 sev 7, 12 records"},
		{"one record, no severity", propose.Rule{ID: "r2", Severity: -1, Evidence: propose.Evidence{Count: 1}}, "r2, 1 record"},
		{"glob with literals", propose.Rule{ID: "r3", Severity: 4, Evidence: propose.Evidence{Count: 2}, Generalisation: "proc-pid", Replaces: []string{"/proc/1/stat", "/proc/2/stat"}},
			"r3 sev 4, 2 records, proc-pid replaces /proc/1/stat /proc/2/stat"},
		// abstractions/base is suggested for every program: nothing to
		// replace, and the note must not end in a dangling "replaces".
		// A D-Bus rule names the process that logged its USER_AVC.
		{"logged by a sender", propose.Rule{ID: "r5", Severity: 3, Evidence: propose.Evidence{Count: 1, Sender: "pid=363 uid=102 subj=unconfined"}},
			"r5 sev 3, 1 record, logged by pid=363 uid=102 subj=unconfined"},
		{"abstraction without literals", propose.Rule{ID: "r4", Severity: 10, Generalisation: "abstraction"}, "r4 sev 10, 0 records, abstraction"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule
			assert.Equal(t, tt.want, note(&r))
		})
	}
}
