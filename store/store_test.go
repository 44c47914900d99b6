package store

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newStore(t *testing.T) *Store {
	t.Helper()
	d := t.TempDir()
	s := &Store{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state"), LockTimeout: 200 * time.Millisecond}
	require.NoError(t, os.MkdirAll(s.ProfileDir, 0o755))
	return s
}

func TestDirName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"nginx", "nginx"},
		{"usr.sbin.nginx", "usr.sbin.nginx"},
		{"/usr/sbin/nginx", "%2Fusr%2Fsbin%2Fnginx"},
		{"..", "%2E."},
		{".hidden", "%2Ehidden"},
		{"a b%c", "a%20b%25c"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, DirName(tt.in), tt.in)
	}
	assert.NotEqual(t, DirName("a/b"), DirName("a%2Fb"), "escaping must be injective")
}

func TestCheckName(t *testing.T) {
	for _, bad := range []string{"", "a//b", "a\nb", ".hidden", "abstractions", "abstractions/base", "tunables", "local", "local/web",
		"disable", "force-complain", "cache", "unconfined", "a&b", ":ns:web", "web:x", "..", "../etc/passwd", "/usr/../etc/x", "a/.."} {
		assert.ErrorIs(t, CheckName(bad), ErrBadName, "%q", bad)
	}
	for _, good := range []string{"nginx", "/usr/bin/x", "docker-default", "cachefilesd", "local-web", "/usr/local/bin/x", "/local/x", "web.1"} {
		assert.NoError(t, CheckName(good))
	}
}

func TestProfilePathAndMeta(t *testing.T) {
	s := newStore(t)
	_, err := s.ProfilePath("web")
	require.ErrorIs(t, err, ErrNotManaged)

	def, err := s.DefaultProfilePath("/usr/sbin/nginx")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(s.ProfileDir, "usr.sbin.nginx"), def)

	require.NoError(t, s.Manage(Meta{Name: "web", Profile: filepath.Join(s.ProfileDir, "web"), Exec: "/usr/bin/web"}))
	p, err := s.ProfilePath("web")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(s.ProfileDir, "web"), p)
	names, err := s.List()
	require.NoError(t, err)
	assert.Equal(t, []string{"web"}, names)
}

func TestState(t *testing.T) {
	s := newStore(t)
	type cursor struct{ Offset int64 }
	var c cursor
	err := s.ReadState("web", "cursor.json", &c)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, s.WriteState("web", "cursor.json", cursor{Offset: 42}))
	require.NoError(t, s.ReadState("web", "cursor.json", &c))
	assert.Equal(t, int64(42), c.Offset)
	for _, bad := range []string{"../x", "lock", "journal.jsonl", "a/b", ""} {
		assert.Error(t, s.WriteState("web", bad, c), bad)
	}
	require.NoError(t, s.RemoveState("web", "cursor.json"))
	require.NoError(t, s.RemoveState("web", "cursor.json"))
}

func TestRevisions(t *testing.T) {
	s := newStore(t)
	revs, err := s.Revisions("web")
	require.NoError(t, err)
	assert.Empty(t, revs)

	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r1, err := s.SaveRevision("web", []byte("one\n"), Revision{Time: t0, Reason: "init", Mode: "complain", User: "root"})
	require.NoError(t, err)
	assert.Equal(t, 1, r1.N)
	assert.Equal(t, SHA256Hex([]byte("one\n")), r1.SHA256)
	r2, err := s.SaveRevision("web", []byte("two\n"), Revision{Time: t0.Add(time.Hour), Reason: "apply", Mode: "complain"})
	require.NoError(t, err)
	assert.Equal(t, 2, r2.N)

	revs, err = s.Revisions("web")
	require.NoError(t, err)
	require.Len(t, revs, 2)
	assert.Equal(t, "init", revs[0].Reason)
	assert.Equal(t, "apply", revs[1].Reason)
	assert.True(t, revs[0].Time.Equal(t0))

	text, r, err := s.ReadRevision("web", 1)
	require.NoError(t, err)
	assert.Equal(t, "one\n", string(text))
	assert.Equal(t, "root", r.User)

	_, _, err = s.ReadRevision("web", 9)
	assert.ErrorContains(t, err, "no revision 9")

	// A text without sidecar (crash between the two writes) is not listed
	// and its number is not reused.
	d, _ := s.Dir("web")
	require.NoError(t, os.WriteFile(filepath.Join(d, "revisions", "0003.profile"), []byte("torn"), 0o640))
	revs, _ = s.Revisions("web")
	assert.Len(t, revs, 2)
	r4, err := s.SaveRevision("web", []byte("four\n"), Revision{Reason: "x"})
	require.NoError(t, err)
	assert.Equal(t, 4, r4.N)

	// Tampered text is detected.
	require.NoError(t, os.WriteFile(filepath.Join(d, "revisions", "0001.profile"), []byte("evil\n"), 0o640))
	_, _, err = s.ReadRevision("web", 1)
	assert.ErrorContains(t, err, "corrupt")
}

func TestJournal(t *testing.T) {
	s := newStore(t)
	j, err := s.Journal("web")
	require.NoError(t, err)
	assert.Empty(t, j)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.NoError(t, s.AppendJournal("web", JournalEntry{Time: t0, Event: EventInit, Mode: "complain", Revision: 1}))
	require.NoError(t, s.AppendJournal("web", JournalEntry{Time: t0.Add(time.Hour), Event: EventInstall, Revision: 2, Evidence: json.RawMessage(`{"uncovered":0}`)}))
	require.NoError(t, s.AppendJournal("web", JournalEntry{Time: t0.Add(2 * time.Hour), Event: EventEnforce, Revision: 3}))
	j, err = s.Journal("web")
	require.NoError(t, err)
	require.Len(t, j, 3)
	assert.JSONEq(t, `{"uncovered":0}`, string(j[1].Evidence))

	e, ok, err := s.LastEvent("web", EventInit, EventInstall)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 2, e.Revision)

	// A torn last line is skipped; damage in the middle is reported.
	d, _ := s.Dir("web")
	p := filepath.Join(d, "journal.jsonl")
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, _ = f.WriteString(`{"time":"2026-01-0`)
	f.Close()
	j, err = s.Journal("web")
	require.NoError(t, err)
	assert.Len(t, j, 3)
	require.NoError(t, os.WriteFile(p, []byte("garbage\n{\"event\":\"init\"}\n"), 0o640))
	_, err = s.Journal("web")
	assert.ErrorContains(t, err, "journal.jsonl:1")
}

func TestLock(t *testing.T) {
	s := newStore(t)
	unlock, err := s.Lock("web")
	require.NoError(t, err)
	// Reentrant within one Store.
	unlock2, err := s.Lock("web")
	require.NoError(t, err)
	require.NoError(t, unlock2())

	// Another Store (as another process would) waits, then fails naming the
	// holder.
	other := &Store{ProfileDir: s.ProfileDir, StateDir: s.StateDir, LockTimeout: 150 * time.Millisecond}
	_, err = other.Lock("web")
	require.Error(t, err)
	assert.True(t, errors.Is(err, ErrLocked))
	assert.Contains(t, err.Error(), "pid "+strconv.Itoa(os.Getpid()))

	// A different profile is independent.
	u3, err := other.Lock("db")
	require.NoError(t, err)
	require.NoError(t, u3())

	require.NoError(t, unlock())
	require.NoError(t, unlock(), "unlock twice is harmless")
	u4, err := other.Lock("web")
	require.NoError(t, err)
	require.NoError(t, u4())
}

func TestLockWaitsForRelease(t *testing.T) {
	s := newStore(t)
	unlock, err := s.Lock("web")
	require.NoError(t, err)
	other := &Store{ProfileDir: s.ProfileDir, StateDir: s.StateDir, LockTimeout: 5 * time.Second}
	done := make(chan error, 1)
	go func() {
		u, err := other.Lock("web")
		if err == nil {
			err = u()
		}
		done <- err
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, unlock())
	require.NoError(t, <-done)
}

func TestLinks(t *testing.T) {
	s := newStore(t)
	prof := filepath.Join(s.ProfileDir, "usr.bin.web")
	require.NoError(t, os.WriteFile(prof, []byte("x"), 0o644))
	require.NoError(t, s.Manage(Meta{Name: "web", Profile: prof}))
	for _, dir := range []string{DisableDir, ForceComplainDir} {
		on, err := s.HasLink(dir, "web")
		require.NoError(t, err)
		assert.False(t, on)
		require.NoError(t, s.SetLink(dir, "web", true))
		require.NoError(t, s.SetLink(dir, "web", true), "idempotent")
		l := filepath.Join(s.ProfileDir, dir, "usr.bin.web")
		target, err := os.Readlink(l)
		require.NoError(t, err)
		assert.Equal(t, prof, target)
		on, _ = s.HasLink(dir, "web")
		assert.True(t, on)
		require.NoError(t, s.SetLink(dir, "web", false))
		require.NoError(t, s.SetLink(dir, "web", false))
		on, _ = s.HasLink(dir, "web")
		assert.False(t, on)
	}
}

// TestLockAcrossProcesses holds the lock in a child process and checks that
// this process waits, then fails naming the child's pid; once the child is
// killed, the kernel releases the lock.
func TestLockAcrossProcesses(t *testing.T) {
	if os.Getenv("AAFLOW_LOCK_CHILD") != "" {
		return
	}
	s := newStore(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$")
	cmd.Env = append(os.Environ(), "AAFLOW_LOCK_CHILD="+s.StateDir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	buf := make([]byte, 6)
	_, err = io.ReadFull(stdout, buf)
	require.NoError(t, err)
	require.Equal(t, "locked", string(buf))

	_, err = s.Lock("web")
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), "pid "+strconv.Itoa(cmd.Process.Pid))
	assert.Contains(t, err.Error(), "waited 200ms")

	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()
	unlock, err := s.Lock("web")
	require.NoError(t, err, "a dead holder's lock is released by the kernel")
	require.NoError(t, unlock())
}

// TestLockChild is the child half of TestLockAcrossProcesses.
func TestLockChild(t *testing.T) {
	dir := os.Getenv("AAFLOW_LOCK_CHILD")
	if dir == "" {
		return
	}
	s := &Store{StateDir: dir}
	if _, err := s.Lock("web"); err != nil {
		os.Exit(2)
	}
	os.Stdout.WriteString("locked")
	time.Sleep(time.Minute)
	os.Exit(0)
}
