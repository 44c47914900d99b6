package propose_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// parseLines decodes log lines as the kernel writes them.
func parseLines(t *testing.T, lines ...string) []*audit.Event {
	t.Helper()
	d := audit.NewDecoder()
	var out []*audit.Event
	for i, l := range lines {
		out = append(out, d.Feed([]byte(l), "test.log", i+1)...)
	}
	out = append(out, d.Flush()...)
	require.Len(t, out, len(lines))
	return out
}

// What the e2e rule-classes scenario's kernel (Debian 6.1) logged: Go's
// read of /proc/sys/net/core/somaxconn asks for net_admin "optional: no
// audit". Enforce mode denies it silently and the program works, so no
// rule is proposed and the record is counted as ignored (optional).
func TestProposeIgnoresOptionalRequests(t *testing.T) {
	optional := `type=AVC msg=audit(1795343979.638:40): apparmor="ALLOWED" operation="capable" info="optional: no audit" error=-1 profile="webd" pid=130 comm="webd" capability=12  capname="net_admin"`
	needed := `type=AVC msg=audit(1795343979.638:41): apparmor="ALLOWED" operation="capable" profile="webd" pid=130 comm="webd" capability=10  capname="net_bind_service"`
	tests := []struct {
		name     string
		lines    []string
		want     []string
		ignored  int
		optional int
	}{
		{"optional only", []string{optional}, nil, 1, 1},
		{"optional and needed", []string{optional, needed, strings.Replace(optional, ":40)", ":42)", 1)}, []string{"capability net_bind_service,"}, 2, 2},
		{"the same capability without the info is needed", []string{strings.Replace(optional, ` info="optional: no audit" error=-1`, "", 1)}, []string{"capability net_admin,"}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			events := parseLines(t, tc.lines...)
			prop, err := propose.Propose(nil, "webd", events, propose.ProposeOptions{})
			require.NoError(t, err)
			assert.Equal(t, tc.want, texts(prop))
			assert.Equal(t, len(tc.lines), prop.Counts.ForProfile)
			assert.Equal(t, tc.ignored, prop.Counts.Ignored)
			assert.Equal(t, tc.optional, prop.Counts.Optional)
			if tc.optional > 0 {
				// One note per optional request, with the reason.
				require.Len(t, prop.Warnings, 1)
				assert.Equal(t, `test.log:1: capability net_admin was asked for as optional (info="optional: no audit"); no rule: enforce mode refuses it silently and the program copes`, prop.Warnings[0])
			} else {
				assert.Empty(t, prop.Warnings)
			}
			// The gate's view of the same records: an optional request
			// asks for nothing.
			for _, e := range events {
				assert.Equal(t, propose.Optional(e), len(propose.Accesses(e, e.ProfileName())) == 0, e.Info)
			}
		})
	}
}

// Complain mode runs a program the profile has no exec rule for in a
// null- child ("NAME//null-/path"). Once the learned ix rule is applied
// the child runs as NAME itself, so the child's peers (ptrace, signal,
// dbus) are written as NAME, as its own records are: otherwise the second
// run logs peer=NAME and the learner proposes the rules again.
func TestProposeFoldsNullChildPeers(t *testing.T) {
	capture := testutil.Corpus(t, "kernel", "debian-6.1-dmesg-scenario.log")
	var execLines []*audit.Event
	for _, e := range readTagged(t, capture, "complain") {
		if strings.Contains(e.Target, "//null-") || strings.Contains(e.ProfileName(), "//null-") {
			execLines = append(execLines, e.Clone())
		}
	}
	require.NotEmpty(t, execLines, "the capture's exec of a null- child")

	// The records the e2e rule-classes scenario logged in complain mode.
	child := parseLines(t,
		`type=AVC msg=audit(1795343980.100:50): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="aatest" pid=128 comm="aatest" requested_mask="trace" denied_mask="trace" peer="aatest//null-/usr/bin/busybox"`,
		`type=AVC msg=audit(1795343980.101:51): apparmor="ALLOWED" operation="signal" class="signal" profile="aatest" pid=128 comm="aatest" requested_mask="send" denied_mask="send" signal=usr1 peer="aatest//null-/usr/bin/busybox"`,
		`type=AVC msg=audit(1795343980.102:52): apparmor="ALLOWED" operation="signal" class="signal" profile="aatest//null-/usr/bin/busybox" pid=129 comm="busybox" requested_mask="receive" denied_mask="receive" signal=usr1 peer="aatest"`,
		`type=AVC msg=audit(1795343980.103:53): apparmor="ALLOWED" operation="signal" class="signal" profile="aatest//null-/bin/sh//null-/usr/bin/busybox" pid=130 comm="busybox" requested_mask="send" denied_mask="send" signal=term peer="aatest//null-/bin/sh"`,
		`type=AVC msg=audit(1795343980.104:54): apparmor="ALLOWED" operation="signal" class="signal" profile="aatest" pid=128 comm="aatest" requested_mask="send" denied_mask="send" signal=hup peer="other//null-/usr/bin/busybox"`,
	)
	var events []*audit.Event
	events = append(events, execLines...)
	events = append(events, child...)
	prop, err := propose.Propose(nil, "aatest", events, propose.ProposeOptions{})
	require.NoError(t, err)
	got := literalTexts(prop)
	for _, r := range got {
		if strings.Contains(r, "peer=aatest//") {
			t.Errorf("a null- child's label left in %q", r)
		}
	}
	assert.Contains(t, got, "ptrace trace peer=aatest,")
	assert.Contains(t, got, "signal send set=(term, usr1) peer=aatest,")
	assert.Contains(t, got, "signal receive set=(usr1) peer=aatest,")
	// Another profile's null- child is not ours to fold: it stays.
	assert.Contains(t, got, "signal send set=(hup) peer=other//null-/usr/bin/busybox,")
	assert.Contains(t, got, "/bin/busybox rmix,", "the capture's exec")

	// After apply, the second run logs peer=aatest: covered, nothing new.
	out, _ := learnInto(t, "profile aatest {\n}\n", "aatest", events, propose.ProposeOptions{})
	second := parseLines(t,
		`type=AVC msg=audit(1795343990.100:60): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="aatest" pid=228 comm="aatest" requested_mask="trace" denied_mask="trace" peer="aatest"`,
		`type=AVC msg=audit(1795343990.101:61): apparmor="ALLOWED" operation="signal" class="signal" profile="aatest" pid=228 comm="aatest" requested_mask="send" denied_mask="send" signal=usr1 peer="aatest"`,
	)
	f, err := parser.Parse("aatest", []byte(out))
	require.NoError(t, err)
	pol, err := policy.NewPolicy(f, "aatest", nil)
	require.NoError(t, err)
	_, again := learnInto(t, out, "aatest", second, propose.ProposeOptions{
		Covers: func(profile string, a policy.Access) bool { return profile == "aatest" && pol.Covers(a) },
	})
	assert.Empty(t, texts(again), "learned profile:\n%s", out)
	assert.Equal(t, 2, again.Counts.Covered)
}
