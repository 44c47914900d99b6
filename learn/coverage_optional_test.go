package learn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
)

// The gate judges the records the e2e kernel logged as the learner does:
// an optional request (info="optional: no audit") needs no rule, and a
// peer that was a null- child of the profile is the profile once its exec
// is ix.
func TestCoverageOptionalAndNullPeers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "aatest")
	require.NoError(t, os.WriteFile(p, []byte("profile aatest /usr/bin/aatest flags=(complain) {\n  /usr/bin/busybox rmix,\n  ptrace trace peer=aatest,\n}\n"), 0o644))
	f, err := parser.ParseFile(p)
	require.NoError(t, err)
	c := NewCoverage(f, parser.ForProfileDir(parser.DefaultIncludeDir))
	tests := []struct {
		name, line string
		want       bool
	}{
		{"optional net_admin", `type=AVC msg=audit(1795343979.638:40): apparmor="ALLOWED" operation="capable" info="optional: no audit" error=-1 profile="aatest" pid=130 comm="aatest" capability=12  capname="net_admin"`, true},
		{"needed net_admin", `type=AVC msg=audit(1795343979.638:41): apparmor="ALLOWED" operation="capable" profile="aatest" pid=130 comm="aatest" capability=12  capname="net_admin"`, false},
		{"ptrace of a null- child", `type=AVC msg=audit(1795343979.638:42): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="aatest" pid=128 comm="aatest" requested_mask="trace" denied_mask="trace" peer="aatest//null-/usr/bin/busybox"`, true},
		{"ptrace of aatest", `type=AVC msg=audit(1795343979.638:43): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="aatest" pid=128 comm="aatest" requested_mask="trace" denied_mask="trace" peer="aatest"`, true},
		{"ptrace of another profile's child", `type=AVC msg=audit(1795343979.638:44): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="aatest" pid=128 comm="aatest" requested_mask="trace" denied_mask="trace" peer="other//null-/usr/bin/busybox"`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := audit.Parse([]byte(tc.line))
			require.NoError(t, err)
			require.NotNil(t, rec.Event)
			got, err := c.Event(rec.Event)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}
