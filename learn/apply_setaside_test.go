package learn

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/propose"
)

// A rule apparmor_parser refuses does not sink the others: learning from
// the 7.3 kernel's capture (userns, which 3.0's parser cannot write)
// writes every rule the parser takes and leaves the refused one pending,
// with the parser's reason; the held rule for the sockets bound to a path
// stays pending too, as --all never takes it.
func TestApplySetsAsideWhatTheParserRefuses(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	b, err := os.ReadFile(testutil.Corpus(t, "kernel", "debian-7.3-audit.log"))
	require.NoError(t, err)
	setAside(ctx, t, e, b, 1)
}

// The captures of 6.12 and 7.3, from auditd's log and from /dev/kmsg, all
// learn into a profile that compiles; 3.0's parser sets aside what only
// 4.x can write.
func TestApplyKernelCaptures(t *testing.T) {
	for _, tc := range []struct {
		file  string
		aside int // userns create,
	}{
		{"debian-6.12-audit.log", 1},
		{"debian-6.12-kmsg.log", 1},
		{"debian-7.3-audit.log", 1},
		{"debian-7.3-kmsg.log", 1},
	} {
		t.Run(tc.file, func(t *testing.T) {
			e := newEnv(t)
			b, err := os.ReadFile(testutil.Corpus(t, "kernel", tc.file))
			require.NoError(t, err)
			got := learnAll(context.Background(), t, e, b)
			assert.Len(t, got.SetAside, tc.aside)
			for _, a := range got.SetAside {
				assert.Equal(t, "userns create,", a.Rule)
			}
		})
	}
}

// learnAll learns the capture b into a profile with no rules, applies every
// proposed rule and checks the result compiles.
func learnAll(ctx context.Context, t *testing.T, e *env, b []byte) *Applied {
	t.Helper()
	require.NoError(t, os.WriteFile(e.log, b, 0o644))
	require.NoError(t, os.WriteFile(e.profile, []byte("include <tunables/global>\nprofile aatest flags=(complain) {\n}\n"), 0o644))
	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	d, err := res.Proposal.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	got, err := Apply(ctx, e.apply, res.Target, res.Proposal, d)
	require.NoError(t, err)
	compiles(t, e.profile)
	return got
}

// setAside learns the capture b, applies everything and checks that want
// rules were set aside, the rest written and the refused ones left pending.
func setAside(ctx context.Context, t *testing.T, e *env, b []byte, want int) {
	t.Helper()
	require.NoError(t, os.WriteFile(e.log, b, 0o644))
	require.NoError(t, os.WriteFile(e.profile, []byte("include <tunables/global>\nprofile aatest flags=(complain) {\n}\n"), 0o644))

	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	var held []string
	for _, r := range res.Proposal.Held() {
		held = append(held, r.ID)
	}
	require.NotEmpty(t, held, "the rule for the path sockets is held")

	d, err := res.Proposal.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	got, err := Apply(ctx, e.apply, res.Target, res.Proposal, d)
	require.NoError(t, err)
	require.NotEmpty(t, got.SetAside)
	compiles(t, e.profile)
	src, err := os.ReadFile(e.profile)
	require.NoError(t, err)
	var asideIDs []string
	for _, a := range got.SetAside {
		t.Logf("set aside: %s: %s", a.Rule, a.Reason)
		assert.NotContains(t, string(src), a.Rule, "a refused rule is not written")
		assert.Contains(t, a.Reason, "AppArmor parser error: ", "the parser's own reason, without the line of the trial file: %+v", a)
		asideIDs = append(asideIDs, a.IDs...)
	}
	assert.Contains(t, string(src), "owner /tmp/aatest/sock w,", "the rules the parser takes are written")
	assert.Len(t, got.SetAside, want, "userns create,")

	// The refused rules and the held ones stay pending; the written ones do not.
	_, prop, err := pending(e)
	require.NoError(t, err)
	var pendingIDs []string
	for _, r := range prop.Rules {
		pendingIDs = append(pendingIDs, r.ID)
	}
	assert.ElementsMatch(t, append(asideIDs, held...), pendingIDs)

	// Applying only refused rules (--all leaves the held ones) writes
	// nothing and says why.
	d, err = prop.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	before, _ := os.ReadFile(e.profile)
	tgt, _, err := pending(e)
	require.NoError(t, err)
	_, err = Apply(ctx, e.apply, tgt, prop, d)
	require.ErrorIs(t, err, ErrParserRefused)
	assert.True(t, strings.Contains(err.Error(), "userns create,"), err.Error())
	after, _ := os.ReadFile(e.profile)
	assert.Equal(t, string(before), string(after))
}
