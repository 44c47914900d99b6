package aaparser

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func needParser(t *testing.T) {
	t.Helper()
	_, err := exec.LookPath("apparmor_parser")
	require.NoError(t, err, "apparmor_parser is required (make deps installs the apparmor package)")
}

func TestCompile(t *testing.T) {
	needParser(t)
	r := &Runner{}
	ctx := context.Background()
	a := []byte("abi <abi/3.0>,\nprofile t /usr/bin/t {\n  /etc/a r,\n  /etc/b w,\n}\n")
	b := []byte("abi <abi/3.0>,\nprofile t /usr/bin/t {\n  /etc/b w,\n  /etc/a r,\n}\n")
	c := []byte("abi <abi/3.0>,\nprofile t /usr/bin/t {\n  /etc/a rw,\n}\n")
	pa, err := r.Compile(ctx, "a", a)
	require.NoError(t, err)
	pb, err := r.Compile(ctx, "b", b)
	require.NoError(t, err)
	pc, err := r.Compile(ctx, "c", c)
	require.NoError(t, err)
	assert.NotEmpty(t, pa)
	assert.Equal(t, pa, pb, "rule order must not change compiled policy")
	assert.NotEqual(t, pa, pc)
}

func TestCompileErrorCarriesParserMessage(t *testing.T) {
	needParser(t)
	r := &Runner{}
	_, err := r.Compile(context.Background(), "bad.profile", []byte("profile t {\n  /x r\n}\n"))
	require.Error(t, err)
	var pe *Error
	require.True(t, errors.As(err, &pe))
	assert.Contains(t, err.Error(), "bad.profile")
	assert.Contains(t, err.Error(), "line 3")
	assert.NotContains(t, err.Error(), "Cache read/write disabled")
}

func TestReplaceUsesInjectedExec(t *testing.T) {
	var got []string
	r := &Runner{Path: "/sbin/apparmor_parser", IncludeDirs: []string{"/tmp/inc"}, Exec: func(_ context.Context, name string, args []string, _ []byte) ([]byte, []byte, error) {
		got = append([]string{name}, args...)
		return nil, nil, nil
	}}
	require.NoError(t, r.Replace(context.Background(), "/etc/apparmor.d/x"))
	assert.Equal(t, []string{"/sbin/apparmor_parser", "-I", "/tmp/inc", "-r", "-W", "/etc/apparmor.d/x"}, got)
}

// A cancelled context stops the program and everything it forked, even when
// a child holds the output pipe open.
func TestSystemExecCancelKillsProcessGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		// The shell forks a sleeper that inherits stdout, then waits.
		_, _, err := SystemExec(ctx, "/bin/sh", []string{"-c", "sleep 60 & wait"}, nil)
		done <- err
	}()
	select {
	case err := <-done:
		require.Error(t, err, "a cancelled run must report failure")
	case <-time.After(20 * time.Second):
		t.Fatal("SystemExec did not return after its context was cancelled: a forked child kept it waiting")
	}
}

// Without a features file, apparmor_parser 3.0 on a kernel-less host drops
// signal and ptrace rules from the compiled policy; with ABI30Features it
// keeps them, so comparisons can see them.
func TestFeaturesFileKeepsSignalRules(t *testing.T) {
	needParser(t)
	ctx := context.Background()
	plain := []byte("abi <abi/3.0>,\nprofile t {\n  /x r,\n}\n")
	withSignal := []byte("abi <abi/3.0>,\nprofile t {\n  /x r,\n  signal (send) set=(term) peer=foo,\n}\n")
	r := &Runner{FeaturesFile: ABI30Features}
	a, err := r.Compile(ctx, "plain", plain)
	require.NoError(t, err)
	b, err := r.Compile(ctx, "signal", withSignal)
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "with -M the signal rule must change the compiled policy")
}

func TestABI30In(t *testing.T) {
	dir := t.TempDir()
	assert.Equal(t, "", ABI30In(dir), "no abi directory")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "abi", "3.0"), 0o755))
	assert.Equal(t, "", ABI30In(dir), "a directory is not a features file")
	other := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(other, "abi"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(other, "abi", "3.0"), []byte("x"), 0o644))
	assert.Equal(t, filepath.Join(other, "abi", "3.0"), ABI30In(other))
	assert.Equal(t, ABI30Features, ABI30In("/etc/apparmor.d"))
}
