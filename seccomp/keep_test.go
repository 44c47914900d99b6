package seccomp

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/store"
)

// fakeLogs serves records as a log would, from a slice the test fills.
type fakeLogs struct {
	recs []Record
	lost int64
}

func (f *fakeLogs) read(_ context.Context, since time.Time, fn func(Record) error) (int64, error) {
	for _, r := range f.recs {
		if !r.Time.Before(since) {
			if err := fn(r); err != nil {
				return f.lost, err
			}
		}
	}
	return f.lost, nil
}

func (f *fakeLogs) log(at time.Time, names ...string) {
	tb, _ := TableFor(AuditArchX86_64)
	for _, n := range names {
		nr, ok := tb.Number(n)
		if !ok {
			panic(n)
		}
		f.recs = append(f.recs, Record{Time: at, Arch: AuditArchX86_64, Syscall: nr, Code: RetLog, Comm: "server", Subj: "web (enforce)", Source: "audit.log"})
	}
}

func TestKeeperLifecycle(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	k := &Keeper{Store: &store.Store{StateDir: t.TempDir()}, Now: func() time.Time { return now }}
	ctx := context.Background()
	logs := &fakeLogs{}

	rev, err := k.Init("web", nil, false)
	require.NoError(t, err)
	assert.Equal(t, 1, rev.N)
	assert.Equal(t, ModeLog, rev.Mode)
	_, err = k.Init("web", nil, false)
	assert.ErrorContains(t, err, "--force")
	st, err := k.Status("web")
	require.NoError(t, err)
	assert.Equal(t, ModeLog, st.Mode)
	path, _ := k.Path("web")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	h, _ := InlineHash(data)
	assert.Equal(t, h, st.SHA256)

	// Nothing learned: the gate refuses, and so does --force.
	_, _, err = k.Enforce(ctx, "web", logs.read, nil, time.Hour, false)
	assert.ErrorIs(t, err, ErrGateRefused)
	_, _, err = k.Enforce(ctx, "web", logs.read, nil, time.Hour, true)
	assert.ErrorContains(t, err, "nothing learned")

	now = now.Add(time.Minute)
	logs.log(now, "read", "write", "openat", "execve", "exit_group")
	o, lost, err := k.Observe(ctx, "web", time.Time{}, logs.read, nil)
	require.NoError(t, err)
	assert.Zero(t, lost)
	p, _, err := k.Propose("web", o, true)
	require.NoError(t, err)
	assert.Len(t, p.Add, 7, "five seen, two kept without a record")
	assert.Equal(t, []string{"restart_syscall", "rt_sigreturn"}, p.Kept())
	st, _ = k.Status("web")
	assert.Equal(t, 7, st.Pending)
	l, err := k.Apply("web")
	require.NoError(t, err)
	assert.Equal(t, []string{"execve", "exit_group", "openat", "read", "restart_syscall", "rt_sigreturn", "write"}, l.Names)
	assert.Equal(t, KeptWithoutRecords["rt_sigreturn"], l.Evidence["rt_sigreturn"].Kept, "the reason stays with the allow-list")
	_, err = k.Apply("web")
	assert.ErrorContains(t, err, "no pending proposal")

	// The window restarted at the apply; a new call in it refuses the gate.
	now = now.Add(2 * time.Hour)
	logs.log(now, "read", "getpid")
	rep, _, err := k.Enforce(ctx, "web", logs.read, nil, time.Hour, false)
	assert.ErrorIs(t, err, ErrGateRefused)
	assert.Equal(t, []string{"getpid"}, rep.New)

	o, _, err = k.Observe(ctx, "web", time.Time{}, logs.read, nil)
	require.NoError(t, err)
	_, _, err = k.Propose("web", o, true)
	require.NoError(t, err)
	_, err = k.Apply("web")
	require.NoError(t, err)
	now = now.Add(2 * time.Hour)
	logs.log(now, "read", "write", "getpid")
	rep, rev, err = k.Enforce(ctx, "web", logs.read, nil, time.Hour, false)
	require.NoError(t, err, "%v", rep)
	assert.True(t, rep.Pass)
	assert.Equal(t, ModeEnforce, rev.Mode)
	data, _ = os.ReadFile(path)
	en, err := Parse(data)
	require.NoError(t, err)
	assert.Equal(t, []string{"execve", "exit_group", "getpid", "openat", "read", "restart_syscall", "rt_sigreturn", "write"}, en.Names(ActAllow), "the learned calls, the kept ones among them")
	assert.NotContains(t, en.Names(ActAllow), "ptrace")

	// Rollback: the learning profile again, then Docker's default.
	rev, err = k.Rollback("web", 0, false)
	require.NoError(t, err)
	assert.Equal(t, ModeLog, rev.Mode)
	assert.Equal(t, 1, rev.RollbackOf)
	rev, err = k.Rollback("web", 0, true)
	require.NoError(t, err)
	assert.Equal(t, ModeDefault, rev.Mode)
	data, _ = os.ReadFile(path)
	assert.Equal(t, DockerDefault(), data)

	j, err := k.Store.Journal("web")
	require.NoError(t, err)
	var events []string
	for _, e := range j {
		events = append(events, e.Event)
	}
	assert.Equal(t, []string{EventInit, EventRefused, EventApply, EventRefused, EventApply, EventEnforce, EventRollback, EventRollback}, events)
}

func TestKeeperNotInitialised(t *testing.T) {
	k := &Keeper{Store: &store.Store{StateDir: t.TempDir()}}
	_, err := k.Status("web")
	assert.ErrorIs(t, err, ErrNotInitialised)
	_, err = k.Learned("web")
	assert.ErrorIs(t, err, ErrNotInitialised)
	_, err = k.Init("web", []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`), false)
	assert.ErrorContains(t, err, "allows nothing")
}
