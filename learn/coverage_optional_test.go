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
// is ix; a record of a null- child itself is never covered, whatever the
// exec rule: that profile does not log the program's network use.
func TestCoverageOptionalAndNullPeers(t *testing.T) {
	p := filepath.Join(t.TempDir(), "aatest")
	require.NoError(t, os.WriteFile(p, []byte("profile aatest /usr/bin/aatest flags=(complain) {\n  /usr/bin/busybox rmix,\n  /usr/bin/tool Px,\n  /usr/bin/both ix,\n  /usr/bin/bo* Ux,\n  ptrace trace peer=aatest,\n}\n"), 0o644))
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
		// A child started before its exec rule was loaded logs as the
		// null- child and keeps doing so: even with the rule inheriting
		// (ix) and the access allowed, its records are not evidence.
		{"null- child run ix, access allowed", `type=AVC msg=audit(1795343979.638:45): apparmor="ALLOWED" operation="open" profile="aatest//null-/usr/bin/busybox" name="/usr/bin/busybox" pid=131 comm="busybox" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, false},
		{"null- child run ix, access not allowed", `type=AVC msg=audit(1795343979.638:46): apparmor="ALLOWED" operation="open" profile="aatest//null-/usr/bin/busybox" name="/etc/shadow" pid=131 comm="busybox" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, false},
		{"null- child of a null- child, both ix", `type=AVC msg=audit(1795343979.638:47): apparmor="ALLOWED" operation="open" profile="aatest//null-/usr/bin/busybox//null-/usr/bin/busybox" name="/usr/bin/busybox" pid=132 comm="busybox" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, false},
		{"null- child run Px is not aatest", `type=AVC msg=audit(1795343979.638:48): apparmor="ALLOWED" operation="open" profile="aatest//null-/usr/bin/tool" name="/usr/bin/busybox" pid=133 comm="tool" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, false},
		{"null- child with no exec rule", `type=AVC msg=audit(1795343979.638:49): apparmor="ALLOWED" operation="open" profile="aatest//null-/usr/bin/other" name="/usr/bin/busybox" pid=134 comm="other" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, false},
		{"null- child whose exec rules disagree (ix, Ux): strict, not folded", `type=AVC msg=audit(1795343979.638:50): apparmor="ALLOWED" operation="open" profile="aatest//null-/usr/bin/both" name="/usr/bin/busybox" pid=135 comm="both" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`, false},
		{"null- child's signal to its parent", `type=AVC msg=audit(1795343979.638:51): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="aatest//null-/usr/bin/busybox" pid=131 comm="busybox" requested_mask="trace" denied_mask="trace" peer="aatest"`, false},
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
