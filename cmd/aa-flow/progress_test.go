package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/loggen"
)

// openPTY opens a pseudo-terminal: what is written to tty is read from
// the returned buffer once closed.
func openPTY(t *testing.T) (tty *os.File, output func() string) {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	require.NoError(t, err)
	fd := int(ptmx.Fd())
	require.NoError(t, unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0))
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	require.NoError(t, err)
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	require.NoError(t, err)
	var b bytes.Buffer
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&b, ptmx); close(done) }()
	return tty, func() string {
		tty.Close()
		<-done
		ptmx.Close()
		return b.String()
	}
}

func bigLog(t *testing.T) string {
	t.Helper()
	var b bytes.Buffer
	_, err := loggen.Write(&b, loggen.Options{Records: 3 * audit.ProgressEvery, Seed: 5, Format: loggen.AuditLog})
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(p, b.Bytes(), 0o644))
	return p
}

func TestProgressOnATerminalOnly(t *testing.T) {
	log := bigLog(t)
	profile := filepath.Join(t.TempDir(), "x")
	require.NoError(t, os.WriteFile(profile, []byte("profile x {\n}\n"), 0o644))
	for _, tc := range []struct {
		name string
		args []string
		want bool
	}{
		{"logs --summary", []string{"logs", "--from", log, "--summary"}, true},
		{"logs --json", []string{"logs", "--from", log, "--summary", "--json"}, false},
		{"logs --quiet", []string{"logs", "--from", log, "--summary", "--quiet"}, false},
		{"learn", []string{"--state-dir", t.TempDir(), "learn", "x", "--from", log, "--check", "--profile-file", profile}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tty, output := openPTY(t)
			var out bytes.Buffer
			runEnv(tc.args, strings.NewReader(""), &out, tty, func(k string) string {
				if k == "TERM" {
					return "xterm"
				}
				return ""
			})
			got := output()
			if !tc.want {
				assert.NotContains(t, got, "reading "+log)
				return
			}
			assert.Contains(t, got, "reading "+log+": ")
			assert.Contains(t, got, " records (")
			assert.Regexp(t, `of \d+ MB \(\d+%\)`, got)
			assert.Contains(t, got, "\r\x1b[K", "the line is cleared when the read ends")
		})
	}

	// On a pipe: nothing.
	var out, errw bytes.Buffer
	code := run([]string{"logs", "--from", log, "--summary"}, strings.NewReader(""), &out, &errw)
	require.Equal(t, 0, code, errw.String())
	assert.NotContains(t, errw.String(), "reading ")
	assert.NotContains(t, errw.String(), "\r")
}

// The enforce gate's read shows progress too, and the gate's verdict
// follows on a clean line.
func TestProgressEnforceGate(t *testing.T) {
	e := newHostEnv(t)
	code, _, errs := e.run("init", "web", "--exec", "/usr/bin/web", "--force")
	require.Equal(t, 0, code, errs)
	log := bigLog(t)
	tty, output := openPTY(t)
	var out bytes.Buffer
	args := []string{"--profile-dir", e.profiles, "--state-dir", e.state, "--securityfs", e.secfs, "--parser", e.parser,
		"enforce", "web", "--from", log, "--quiet-for", "0s", "--dry-run"}
	runEnv(args, strings.NewReader(""), &out, tty, func(k string) string {
		if k == "TERM" {
			return "xterm"
		}
		return ""
	})
	got := output()
	assert.Contains(t, got, "reading "+log+": ")
	assert.Contains(t, got, "\r\x1b[K")
}
