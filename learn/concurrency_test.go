package learn

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/rollout/rollouttest"
	"github.com/aa-flow/aa-flow/store"
)

// hostEnv is a managed profile aatest on a fake kernel, with a log of
// records dated after it was made.
type hostEnv struct {
	dirs  Dirs
	kern  *rollouttest.Kernel
	path  string
	log   string
	clock time.Time
}

func newHostEnv(t *testing.T, text string) *hostEnv {
	t.Helper()
	needParser(t)
	d := t.TempDir()
	e := &hostEnv{dirs: Dirs{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state")},
		log: filepath.Join(d, "kern.log"), clock: time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)}
	require.NoError(t, os.MkdirAll(e.dirs.ProfileDir, 0o755))
	k, err := rollouttest.New(filepath.Join(d, "sys"), rollout.ModeOf)
	require.NoError(t, err)
	e.kern = k
	e.path = filepath.Join(e.dirs.ProfileDir, "aatest")
	_, err = e.host().Create(context.Background(), "aatest", e.path, "", []byte(text), false, true)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(e.log, nil, 0o644))
	return e
}

func needParser(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("apparmor_parser")
	require.NoError(t, err, "apparmor_parser is required (make deps)")
}

// host is a new process's view of the host: its own Store (and so its own
// locks), the shared fake kernel.
func (e *hostEnv) host() *rollout.Host {
	h := rollout.NewHost(e.dirs.ProfileDir, e.dirs.StateDir, "", e.kern.Securityfs)
	h.Parser.Exec = e.kern.Exec
	h.Now = func() time.Time { return e.clock }
	h.User = "tester"
	return h
}

// record appends a kernel record of aatest reading name at t.
func (e *hostEnv) record(t *testing.T, at time.Time, serial int, name string) {
	t.Helper()
	f, err := os.OpenFile(e.log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = fmt.Fprintf(f, `[    9.000000] audit: type=1400 audit(%d.000:%d): apparmor="ALLOWED" operation="open" profile="aatest" name="%s" pid=130 comm="aatest" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`+"\n", at.Unix(), serial, name)
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func withRule(rule string) string {
	return strings.Replace(aatestProfile, "  /etc/aatest.conf r,\n", "  /etc/aatest.conf r,\n  "+rule+"\n", 1)
}

// enforce judges the profile as it is once it holds the lock: the gate's
// options, made before, must not bring back a text a rollback replaced
// in between (they did: the coverage was computed from the file as it
// was when the options were made).
func TestEnforceJudgesProfileUnderLock(t *testing.T) {
	ctx := context.Background()
	e := newHostEnv(t, aatestProfile)
	_, err := e.host().Install(ctx, "aatest", []byte(withRule("/etc/gatecheck r,")), "apply", true)
	require.NoError(t, err)

	gate, err := GateOptions(GateSource{Dirs: e.dirs, From: []string{e.log}}, "aatest", 0)
	require.NoError(t, err)
	// A rollback lands between the options and enforce's lock.
	_, err = e.host().Rollback(ctx, "aatest", 1, true)
	require.NoError(t, err)
	e.record(t, e.clock.Add(time.Hour), 901, "/etc/gatecheck")
	e.clock = e.clock.Add(2 * time.Hour)

	report, err := e.host().Enforce(ctx, "aatest", rollout.EnforceOptions{Gate: gate})
	require.ErrorIs(t, err, rollout.ErrGateRefused, "the rolled-back profile does not cover /etc/gatecheck")
	assert.Equal(t, 1, report.Uncovered)
	assert.Equal(t, "complain", e.kern.Loaded()["aatest"])
}

// Apply twice = apply once: a run killed after writing the file, before
// resolving the proposal, leaves the proposal pending; applying it again
// writes no rule twice.
func TestApplyTwiceIsOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	_, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	tgt, prop, err := pending(e)
	require.NoError(t, err)
	d, err := prop.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	kept, err := prop.Marshal()
	require.NoError(t, err)

	_, err = Apply(ctx, e.apply, tgt, prop, d)
	require.NoError(t, err)
	once, err := os.ReadFile(e.profile)
	require.NoError(t, err)

	// The killed run: its proposal is still there.
	again, err := propose.UnmarshalProposal("proposal.json", kept)
	require.NoError(t, err)
	require.NoError(t, SaveProposal(e.dirs, tgt, again))
	tgt2, prop2, err := pending(e)
	require.NoError(t, err)
	d2, err := prop2.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	got, err := Apply(ctx, e.apply, tgt2, prop2, d2)
	require.NoError(t, err)
	assert.Zero(t, got.Rules)
	twice, err := os.ReadFile(e.profile)
	require.NoError(t, err)
	assert.Equal(t, string(once), string(twice))
	_, _, err = pending(e)
	assert.ErrorContains(t, err, "no pending proposal", "the second apply resolves the proposal")
}

// learn holds the profile's lock: while another process holds it, learn
// waits and saves nothing.
func TestLearnTakesLock(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	other := &store.Store{ProfileDir: e.dirs.ProfileDir, StateDir: e.dirs.StateDir}
	unlock, err := other.Lock("aatest")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := Learn(ctx, "aatest", e.learn)
		done <- err
	}()
	time.Sleep(300 * time.Millisecond)
	select {
	case err := <-done:
		t.Fatalf("learn ran while another process held the lock (err %v)", err)
	default:
	}
	_, _, perr := pending(e)
	assert.ErrorContains(t, perr, "no pending proposal")
	require.NoError(t, unlock())
	require.NoError(t, <-done)
	_, _, perr = pending(e)
	assert.NoError(t, perr)
}

// Two learns (each applying what it proposes), an enforce and a rollback
// on one profile at once, as four processes: no rule is written twice, no
// write bypasses the store (the file is the newest revision), and the mode
// the kernel has is the one status reports.
func TestConcurrentLearnEnforceRollback(t *testing.T) {
	ctx := context.Background()
	e := newHostEnv(t, aatestProfile)
	for i := 0; i < 6; i++ {
		e.record(t, e.clock.Add(time.Duration(i+1)*time.Minute), 900+i, fmt.Sprintf("/etc/c%d", i))
	}
	e.clock = e.clock.Add(time.Hour)
	apply := ApplyOptions{Dirs: e.dirs, Securityfs: e.kern.Securityfs, Exec: e.kern.Exec}
	learnOpts := Options{Dirs: e.dirs, From: []string{e.log}, FromStart: true}

	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 2; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := Learn(ctx, "aatest", learnOpts)
			if err != nil {
				errs <- fmt.Errorf("learn: %w", err)
				return
			}
			if len(res.Proposal.Rules) == 0 {
				return
			}
			d, err := res.Proposal.Decide(propose.Selection{All: true})
			if err != nil {
				errs <- err
				return
			}
			if _, err := Apply(ctx, apply, res.Target, res.Proposal, d); err != nil {
				errs <- fmt.Errorf("apply: %w", err)
			}
		}()
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		gate, err := GateOptions(GateSource{Dirs: e.dirs, From: []string{e.log}}, "aatest", 0)
		if err == nil {
			_, err = e.host().Enforce(ctx, "aatest", rollout.EnforceOptions{Gate: gate})
		}
		if err != nil && !strings.Contains(err.Error(), "gate refused") {
			errs <- fmt.Errorf("enforce: %w", err)
		}
	}()
	go func() {
		defer wg.Done()
		if _, err := e.host().Rollback(ctx, "aatest", 0, true); err != nil && !strings.Contains(err.Error(), "nothing earlier") {
			errs <- fmt.Errorf("rollback: %w", err)
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	src, err := os.ReadFile(e.path)
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, l := range strings.Split(string(src), "\n") {
		l = strings.TrimSpace(l)
		if strings.HasSuffix(l, ",") {
			assert.False(t, seen[l], "rule %q written twice:\n%s", l, src)
			seen[l] = true
		}
	}
	h := e.host()
	cur, ok, err := h.CurrentRevision("aatest")
	require.NoError(t, err)
	require.True(t, ok, "the file is a stored revision")
	last, _, err := h.Store.LastRevision("aatest")
	require.NoError(t, err)
	assert.Equal(t, last.N, cur.N, "the file is the newest revision: no write was lost")
	st, err := h.Status(ctx, "aatest", nil)
	require.NoError(t, err)
	assert.Equal(t, e.kern.Loaded()["aatest"], st.KernelMode)
	assert.Equal(t, st.FileMode, st.KernelMode, "the kernel has the mode the file asks for")
}
