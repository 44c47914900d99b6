package store

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteFileAtomic(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "f")
	require.NoError(t, WriteFileAtomic(p, []byte("one"), 0o644))
	require.NoError(t, WriteFileAtomic(p, []byte("two"), 0o600))
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, "two", string(b))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	ents, _ := os.ReadDir(d)
	assert.Len(t, ents, 1, "no temporary file left behind")

	assert.Error(t, WriteFileAtomic(filepath.Join(d, "missing", "f"), []byte("x"), 0o644))
}

// atomicSteps are the points writeFileAtomic reports, in order.
var atomicSteps = []string{"create", "write", "fsync", "rename", "fsync-dir"}

// TestWriteFileAtomicKilled re-executes the test binary as a child that
// rewrites a file and SIGKILLs itself right after step N, for every N; the
// file must then hold the old or the new content, whole.
func TestWriteFileAtomicKilled(t *testing.T) {
	if os.Getenv("AAFLOW_ATOMIC_CHILD") != "" {
		return
	}
	oldData := []byte("old content\n")
	newData := make([]byte, 1<<20)
	for i := range newData {
		newData[i] = byte('a' + i%26)
	}
	for i, step := range atomicSteps {
		t.Run(step, func(t *testing.T) {
			d := t.TempDir()
			p := filepath.Join(d, "profile")
			require.NoError(t, os.WriteFile(p, oldData, 0o644))
			cmd := exec.Command(os.Args[0], "-test.run=^TestAtomicChild$")
			cmd.Env = append(os.Environ(), "AAFLOW_ATOMIC_CHILD="+strconv.Itoa(i), "AAFLOW_ATOMIC_PATH="+p)
			err := cmd.Run()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "the child must die")
			ws := ee.Sys().(syscall.WaitStatus)
			require.True(t, ws.Signaled(), "child killed by signal, got %v", err)
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			if i < 3 {
				assert.Equal(t, oldData, b, "killed before rename: old content")
			} else {
				assert.Equal(t, newData, b, "killed after rename: new content")
			}
		})
	}
}

// TestAtomicChild is the child half of TestWriteFileAtomicKilled.
func TestAtomicChild(t *testing.T) {
	n := os.Getenv("AAFLOW_ATOMIC_CHILD")
	if n == "" {
		return
	}
	killAt, _ := strconv.Atoi(n)
	newData := make([]byte, 1<<20)
	for i := range newData {
		newData[i] = byte('a' + i%26)
	}
	err := writeFileAtomic(os.Getenv("AAFLOW_ATOMIC_PATH"), newData, 0o644, func(s string) {
		if s == atomicSteps[killAt] {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	})
	fmt.Fprintln(os.Stderr, "child not killed:", err)
	os.Exit(3)
}

// A temporary file left by a killed write is removed by a later write of the
// same file once it is stale; a fresh one (a concurrent writer's) and other
// files' temporaries are kept.
func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "usr.bin.a[1]")
	stale := filepath.Join(dir, ".usr.bin.a[1].tmp-111")
	fresh := filepath.Join(dir, ".usr.bin.a[1].tmp-222")
	other := filepath.Join(dir, ".usr.bin.b.tmp-333")
	for _, f := range []string{stale, fresh, other} {
		require.NoError(t, os.WriteFile(f, []byte("partial"), 0o600))
	}
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(stale, old, old))
	require.NoError(t, os.Chtimes(other, old, old))

	require.NoError(t, WriteFileAtomic(path, []byte("profile a {}\n"), 0o644))

	assert.NoFileExists(t, stale)
	assert.FileExists(t, fresh)
	assert.FileExists(t, other)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "profile a {}\n", string(got))
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))
	tests := []struct {
		name, from, to string
		wantErr        bool
	}{
		{"same directory", filepath.Join(dir, "a"), filepath.Join(dir, "b"), false},
		{"another directory", filepath.Join(dir, "c"), filepath.Join(sub, "c"), false},
		{"missing source", filepath.Join(dir, "nope"), filepath.Join(dir, "x"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.wantErr {
				require.NoError(t, os.WriteFile(tt.from, []byte(tt.name), 0o600))
			}
			err := Rename(tt.from, tt.to)
			if tt.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			b, err := os.ReadFile(tt.to)
			require.NoError(t, err)
			assert.Equal(t, tt.name, string(b))
			assert.NoFileExists(t, tt.from)
		})
	}
}
