package learn

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/store"
)

const aatestProfile = `include <tunables/global>

profile aatest flags=(complain) {
  include <abstractions/base>

  # my own rule
  /etc/aatest.conf r,
}
`

// env is a profile file, a state directory and a copy of a kernel capture
// (complain mode, then enforce mode's denials of the same workload).
type env struct {
	dirs         Dirs
	profile, log string
	learn        Options
	apply        ApplyOptions
}

// captured is how many records of aatest the capture holds.
const captured = 57

func newEnv(t *testing.T) *env {
	t.Helper()
	d := t.TempDir()
	e := &env{dirs: Dirs{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state")},
		profile: filepath.Join(d, "aatest.profile"), log: filepath.Join(d, "capture.log")}
	require.NoError(t, os.WriteFile(e.profile, []byte(aatestProfile), 0o644))
	b, err := os.ReadFile(testutil.Capture(t, "debian-6.1-dmesg-scenario.log"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(e.log, b, 0o644))
	e.learn = Options{Dirs: e.dirs, ProfileFile: e.profile, From: []string{e.log}}
	e.apply = ApplyOptions{Dirs: e.dirs, NoLoad: true}
	return e
}

func texts(p *propose.Proposal) []string {
	var out []string
	for _, r := range p.Rules {
		out = append(out, r.Text)
	}
	return out
}

func compiles(t *testing.T, path string) {
	t.Helper()
	_, err := (&aaparser.Runner{}).CompileFile(context.Background(), path)
	require.NoError(t, err)
}

// Check proposes from the capture and writes nothing.
func TestLearnCheck(t *testing.T) {
	e := newEnv(t)
	o := e.learn
	o.Check = true
	res, err := Learn(context.Background(), "aatest", o)
	require.NoError(t, err)
	assert.Equal(t, e.profile, res.Target.Path)
	assert.False(t, res.Target.Managed)
	assert.Contains(t, texts(res.Proposal), "capability chown,")
	assert.Equal(t, captured, res.Proposal.Counts.ForProfile)
	assert.Zero(t, res.Proposal.Counts.Lost, "the capture's serial gap (netlink-only records) is a hint, not a loss")
	_, err = os.Stat(e.dirs.StateDir)
	assert.True(t, os.IsNotExist(err), "Check writes no state")
}

// A proposal is kept until every rule is decided on; then the cursor moves
// on and the next learn reads only newer records.
func TestLearnApplyCursor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	n := len(res.Proposal.Rules)
	require.Greater(t, n, 2)

	t1, prop, err := pending(e)
	require.NoError(t, err)
	assert.Len(t, prop.Rules, n)
	d, err := prop.Decide(propose.Selection{Only: []string{"r1"}})
	require.NoError(t, err)
	got, err := Apply(ctx, e.apply, t1, prop, d)
	require.NoError(t, err)
	assert.Equal(t, Applied{Rules: 1, Path: e.profile}, *got)
	src, _ := os.ReadFile(e.profile)
	assert.Contains(t, string(src), "  # my own rule\n  /etc/aatest.conf r,\n")
	compiles(t, e.profile)

	// Partly applied: the rest comes back, from the same records.
	_, prop, err = pending(e)
	require.NoError(t, err)
	assert.Len(t, prop.Rules, n-1)
	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, captured, res.Proposal.Counts.ForProfile)
	assert.Len(t, res.Proposal.Rules, n-1)

	// All applied: the proposal is resolved and the cursor at the end.
	t2, prop, err := pending(e)
	require.NoError(t, err)
	d, err = prop.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	got, err = Apply(ctx, e.apply, t2, prop, d)
	require.NoError(t, err)
	assert.Positive(t, got.Rules)
	compiles(t, e.profile)
	_, _, err = pending(e)
	assert.ErrorContains(t, err, "no pending proposal")
	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Zero(t, res.Proposal.Counts.ForProfile)

	// Everything read so far is allowed now.
	o := e.learn
	o.FromStart, o.Check = true, true
	res, err = Learn(ctx, "aatest", o)
	require.NoError(t, err)
	assert.Equal(t, captured, res.Proposal.Counts.ForProfile)
	assert.Empty(t, res.Proposal.Rules)

	// A new record is all the next learn sees.
	f, err := os.OpenFile(e.log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(`[    9.000000] audit: type=1400 audit(1795343999.000:900): apparmor="ALLOWED" operation="open" profile="aatest" name="/etc/newfile" pid=130 comm="aatest" requested_mask="r" denied_mask="r" fsuid=0 ouid=1` + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Proposal.Counts.ForProfile)
	assert.Equal(t, []string{"/etc/newfile r,"}, texts(res.Proposal))
}

func pending(e *env) (*Target, *propose.Proposal, error) {
	t, err := LoadTarget(e.dirs, "aatest", e.profile)
	if err != nil {
		return nil, nil, err
	}
	p, err := LoadProposal(e.dirs, t)
	return t, p, err
}

// Rejecting every rule resolves the proposal; rejecting some does not.
func TestReject(t *testing.T) {
	e := newEnv(t)
	_, err := Learn(context.Background(), "aatest", e.learn)
	require.NoError(t, err)
	_, prop, err := pending(e)
	require.NoError(t, err)
	some := propose.Decisions{"r1": propose.Reject}
	done, err := Reject(e.dirs, prop, some)
	require.NoError(t, err)
	assert.False(t, done)
	_, _, err = pending(e)
	require.NoError(t, err, "still pending")

	all := propose.Decisions{}
	for _, r := range prop.Rules {
		all[r.ID] = propose.Reject
	}
	done, err = Reject(e.dirs, prop, all)
	require.NoError(t, err)
	assert.True(t, done)
	_, _, err = pending(e)
	assert.ErrorContains(t, err, "no pending proposal")
}

// A managed profile is installed as a new revision; a dry run changes
// nothing and says what it would write.
func TestApplyManaged(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	st := &store.Store{ProfileDir: e.dirs.ProfileDir, StateDir: e.dirs.StateDir}
	require.NoError(t, os.MkdirAll(st.ProfileDir, 0o755))
	path := filepath.Join(st.ProfileDir, "aatest")
	require.NoError(t, os.WriteFile(path, []byte(aatestProfile), 0o644))
	require.NoError(t, st.Manage(store.Meta{Name: "aatest", Profile: path}))
	o := e.learn
	o.ProfileFile = ""
	res, err := Learn(ctx, "aatest", o)
	require.NoError(t, err)
	assert.True(t, res.Target.Managed)
	d, err := res.Proposal.Decide(propose.Selection{All: true})
	require.NoError(t, err)

	var log bytes.Buffer
	dry := e.apply
	dry.DryRun, dry.Log = true, &log
	got, err := Apply(ctx, dry, res.Target, res.Proposal, d)
	require.NoError(t, err)
	assert.True(t, got.DryRun)
	assert.Contains(t, log.String(), "+  capability chown,")
	src, _ := os.ReadFile(path)
	assert.Equal(t, aatestProfile, string(src))

	got, err = Apply(ctx, e.apply, res.Target, res.Proposal, d)
	require.NoError(t, err)
	require.NotNil(t, got.Revision)
	assert.False(t, got.Loaded)
	compiles(t, path)
	revs, err := st.Revisions("aatest")
	require.NoError(t, err)
	stored := revs[len(revs)-1]
	assert.Equal(t, stored.N, got.Revision.N)
	assert.Equal(t, stored.SHA256, got.Revision.SHA256, "the revision as the store records it")
	assert.True(t, stored.Time.Equal(got.Revision.Time), "stored %v, returned %v", stored.Time, got.Revision.Time)
}

func TestLostCount(t *testing.T) {
	since := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		lost []audit.Lost
		want int
	}{
		{"none", nil, 0},
		{"serial gaps are hints", []audit.Lost{{Kind: "serial-gap", Count: 5, Time: since.Add(time.Hour)}}, 0},
		{"before the window", []audit.Lost{{Kind: "rate-limit", Count: 3, Time: since.Add(-time.Second)}}, 0},
		{"in the window", []audit.Lost{{Kind: "rate-limit", Count: 3, Time: since}}, 3},
		{"unknown time counts", []audit.Lost{{Kind: "backlog", Count: 2}}, 2},
		{"unknown count is one", []audit.Lost{{Kind: "backlog", Time: since.Add(time.Minute)}}, 1},
		{"mixed", []audit.Lost{{Kind: "backlog"}, {Kind: "serial-gap", Count: 9}, {Kind: "audit-lost", Count: 4, Time: since.Add(-time.Hour)}, {Kind: "printk-ratelimit", Count: 7, Time: since.Add(time.Hour)}}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, LostCount(tc.lost, since))
		})
	}
}
