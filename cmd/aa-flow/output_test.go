package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/store"
)

func runWith(env map[string]string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := runEnv(args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	return code, out.String(), errb.String()
}

// Usage mistakes are told apart by where they happen, not by cobra's text.
func TestExitCodesUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
	}{
		{[]string{"nosuchcommand"}, exitUsage},
		{[]string{"status", "--nosuchflag"}, exitUsage},
		{[]string{"lint", "--min-severity", "high", "x"}, exitUsage},
		{[]string{"logs", "a", "b"}, exitUsage},
		{[]string{"history"}, exitUsage},
		{[]string{"--color", "sometimes", "status"}, exitUsage},
		{[]string{"init", "x", "--exec", "/bin/x", "--template", "nope"}, exitUsage},
	}
	for _, tt := range tests {
		code, _, errs := runWith(nil, tt.args...)
		assert.Equal(t, tt.code, code, "%v: %s", tt.args, errs)
		assert.True(t, strings.HasPrefix(errs, "aa-flow: "), "%v: %q", tt.args, errs)
	}
}

// --json turns every error into one JSON object on stderr, same exit code.
func TestJSONErrors(t *testing.T) {
	dir := t.TempDir()
	for _, args := range [][]string{
		{"--json", "nosuchcommand"},
		{"--json", "--state-dir", dir, "history", "nosuch"},
		{"--json", "--state-dir", dir, "--profile-dir", dir, "rollback", "nosuch"},
		{"--json", "--state-dir", dir, "--profile-dir", dir, "init", "x", "--exec", "rel"},
	} {
		code, out, errs := runWith(nil, args...)
		assert.NotEqual(t, 0, code, args)
		assert.Empty(t, out, args)
		var e jsonError
		require.NoError(t, json.Unmarshal([]byte(errs), &e), "%v: %s", args, errs)
		assert.Equal(t, code, e.Exit, args)
		assert.NotEmpty(t, e.Error, args)
	}
}

func TestEnvironmentDefaults(t *testing.T) {
	pd, sd := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(pd, "usr.bin.svc"), []byte("profile svc {\n  capability,\n}\n"), 0o644))
	env := map[string]string{envProfileDir: pd, envStateDir: sd, envParser: "/nonexistent/apparmor_parser"}
	code, out, errs := runWith(env, "lint", "--severity-db", "/etc/apparmor/severity.db", "svc")
	assert.Equal(t, exitError, code, errs)
	assert.Contains(t, out, filepath.Join(pd, "usr.bin.svc")+":2:3")
	code, out, _ = runWith(env, "--help")
	require.Equal(t, 0, code)
	assert.Contains(t, out, `(default "`+pd+`")`)
	assert.Contains(t, out, "Exit status, the same for every command")
	// a flag still wins over the environment
	code, _, errs = runWith(env, "--profile-dir", sd, "lint", "svc")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "no such profile: svc")
}

func TestColorFor(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	require.NoError(t, err)
	defer f.Close()
	tests := []struct {
		color   string
		noColor bool
		env     map[string]string
		want    bool
	}{
		{"auto", false, nil, false}, // not a terminal
		{"always", false, map[string]string{"NO_COLOR": "1", "TERM": "dumb"}, true},
		{"never", false, nil, false},
		{"always", true, nil, false},
	}
	for _, tt := range tests {
		g := &globalOptions{Color: tt.color, NoColor: tt.noColor, Getenv: func(k string) string { return tt.env[k] }}
		assert.Equal(t, tt.want, colorFor(g, f), "%+v", tt)
	}
}

func TestMessage(t *testing.T) {
	notExist := &fs.PathError{Op: "stat", Path: "/var/log/x.log", Err: syscall.ENOENT}
	tests := []struct {
		err  error
		name string
		want string
	}{
		{fmt.Errorf("read records: read /var/log/x.log: %w", notExist), "", "cannot read /var/log/x.log: no such file"},
		{fmt.Errorf("state: %w (run as root)", &fs.PathError{Op: "mkdir", Path: "/var/lib/aa-flow/x", Err: syscall.EACCES}), "", "cannot write /var/lib/aa-flow/x: permission denied (run as root)"},
		{fmt.Errorf("/x/docker inspect: %w: %s", &fs.PathError{Op: "fork/exec", Path: "/x/docker", Err: syscall.ENOENT}, ""), "", "cannot run /x/docker inspect: no such file"},
		{fmt.Errorf("nosuch: %w (or learn into a file with --profile-file)", fmt.Errorf("nosuch: %w", store.ErrNotManaged)), "nosuch",
			"nosuch is not managed by aa-flow (start with: aa-flow init nosuch --exec PATH, or --adopt for an existing profile file)"},
		{fmt.Errorf("x.log:1:1: unknown rule %q", strings.Repeat("\xff\x01", 200)), "", ""},
	}
	for _, tt := range tests {
		got := message(tt.err, tt.name)
		if tt.want != "" {
			assert.Equal(t, tt.want, got)
			continue
		}
		assert.Less(t, len(got), maxLine+40, got)
		assert.Contains(t, got, "more bytes)")
	}
}

// status reads the host's log once per profile; the line naming the source
// is written once (issue 14 item 9).
func TestOnceWriter(t *testing.T) {
	var b bytes.Buffer
	w := &onceWriter{w: &b}
	for _, s := range []string{"reading /var/log/audit/audit.log (auditd runs)\n", "other\n", "reading /var/log/audit/audit.log (auditd runs)\n"} {
		n, err := w.Write([]byte(s))
		require.NoError(t, err)
		assert.Equal(t, len(s), n)
	}
	assert.Equal(t, "reading /var/log/audit/audit.log (auditd runs)\nother\n", b.String())
}

// An error naming a record's path (the gate's refusal, say) is escaped for
// the terminal (issue 13 item 7).
func TestReportErrorEscapes(t *testing.T) {
	var errb bytes.Buffer
	g := &globalOptions{Err: &errb}
	reportError(g, fmt.Errorf("web: enforce gate refused: 1 uncovered\n  /srv/a\u202eexe r\n  /tmp/\x1b[2J"), exitRefused, "web")
	assert.Equal(t, "aa-flow: web: enforce gate refused: 1 uncovered\n  /srv/a\\u202eexe r\n  /tmp/\\x1b[2J\n", errb.String())
}
