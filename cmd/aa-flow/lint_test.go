package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runLintCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errw bytes.Buffer
	code := run(append([]string{"lint"}, args...), strings.NewReader(""), &out, &errw)
	return code, out.String(), errw.String()
}

func writeProfile(t *testing.T, dir, name, src string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
	return p
}

func TestLintCmd(t *testing.T) {
	dir := t.TempDir()
	clean := writeProfile(t, dir, "usr.bin.clean", "profile clean /usr/bin/clean {\n  /etc/clean/** r,\n  network inet stream,\n}\n")
	broad := writeProfile(t, dir, "usr.bin.broad", "profile broad /usr/bin/broad flags=(complain) {\n  /etc/broad/** r,\n  capability,\n  deny /etc/shadow r,\n  /usr/bin/helper ux,\n}\n")
	moderate := writeProfile(t, dir, "usr.bin.moderate", "profile moderate {\n  unix,\n}\n")
	db := "/etc/apparmor/severity.db"

	tests := []struct {
		name     string
		args     []string
		code     int
		contains []string
		absent   []string
	}{
		{"clean profile", []string{"--severity-db", db, clean}, 0, []string{"1 file(s), 0 warning(s), 0 at or above severity 7"}, nil},
		{"broad profile", []string{"--severity-db", db, broad}, 1, []string{
			"! " + broad + ":3:3: severity 10: [bare-rule] every capability",
			"! " + broad + ":4:3: severity 7: [deny-in-complain]",
			"! " + broad + ":5:3: severity 10: [unconfined-exec] ux (/usr/bin/helper)",
			"    capability,",
			"3 warning(s), 3 at or above severity 7",
		}, nil},
		{"below the threshold", []string{"--severity-db", db, moderate}, 0, []string{"  " + moderate + ":2:3: severity 5: [bare-rule] bare unix rule", "1 warning(s), 0 at or above"}, nil},
		{"threshold lowered", []string{"--severity-db", db, "--min-severity", "5", moderate}, 1, []string{"! " + moderate}, nil},
		{"by file name in --profile-dir", []string{"--severity-db", db, "--profile-dir", dir, "usr.bin.broad"}, 1, []string{broad + ":3:3"}, nil},
		{"by profile name in --profile-dir", []string{"--severity-db", db, "--profile-dir", dir, "clean"}, 0, []string{"0 warning(s)"}, nil},
		{"several files", []string{"--severity-db", db, clean, broad}, 1, []string{"2 file(s), 3 warning(s)"}, nil},
	}
	for _, tt := range tests {
		code, out, _ := runLintCmd(t, tt.args...)
		assert.Equal(t, tt.code, code, "%s\n%s", tt.name, out)
		for _, c := range tt.contains {
			assert.Contains(t, out, c, tt.name)
		}
	}
}

func TestLintCmdErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeProfile(t, dir, "bad", "profile bad {\n  /etc/x r\n")
	code, _, errs := runLintCmd(t)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "at least one FILE or NAME")

	code, _, errs = runLintCmd(t, "--min-severity", "11", bad)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "--min-severity must be 0..10")

	code, _, errs = runLintCmd(t, "--profile-dir", dir, "nosuch")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "no such profile: nosuch (no file in "+dir+" declares it)")

	code, _, errs = runLintCmd(t, bad)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, bad+":", "a parse error names the file")

	ok := writeProfile(t, dir, "ok", "profile ok {\n}\n")
	code, _, errs = runLintCmd(t, "--severity-db", filepath.Join(dir, "missing.db"), ok)
	assert.Equal(t, exitError, code, "an explicit severity db must exist")
	assert.Contains(t, errs, "missing.db")
}

// A bare NAME is the profile, even when the current directory holds a file
// called NAME (issue 14: lint read that file instead).
func TestLintCmdNameIsProfile(t *testing.T) {
	dir := t.TempDir()
	writeProfile(t, dir, "usr.bin.svc", "profile svc /usr/bin/svc {\n  capability,\n}\n")
	cwd := t.TempDir()
	writeProfile(t, cwd, "svc", "\x00\x01 not a profile\n")
	t.Chdir(cwd)
	code, out, errs := runLintCmd(t, "--severity-db", "/etc/apparmor/severity.db", "--profile-dir", dir, "svc")
	assert.Equal(t, exitError, code, errs)
	assert.Contains(t, out, filepath.Join(dir, "usr.bin.svc")+":2:3: severity 10: [bare-rule]")

	code, _, errs = runLintCmd(t, "--severity-db", "/etc/apparmor/severity.db", "--profile-dir", dir, "./svc")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "svc", "./FILE is the file in the current directory")
}

func TestLintCmdJSON(t *testing.T) {
	dir := t.TempDir()
	p := writeProfile(t, dir, "svc", "profile svc {\n  @{PROC}/*/mem r,\n}\n")
	code, out, _ := runLintCmd(t, "--json", "--severity-db", "/etc/apparmor/severity.db", p)
	assert.Equal(t, exitError, code)
	var reports []struct {
		File     string `json:"file"`
		Warnings []struct {
			Pos struct {
				File      string
				Line, Col int
			} `json:"pos"`
			Check    string `json:"check"`
			Severity int    `json:"severity"`
			Rule     string `json:"rule"`
		} `json:"warnings"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &reports), out)
	require.Len(t, reports, 1)
	require.Len(t, reports[0].Warnings, 1)
	w := reports[0].Warnings[0]
	assert.Equal(t, "sensitive-path", w.Check)
	assert.Equal(t, 10, w.Severity)
	assert.Equal(t, 2, w.Pos.Line)
	assert.Equal(t, "@{PROC}/*/mem r,", w.Rule)
}

// Variables defined in the tunables a profile includes (from --profile-dir)
// are expanded; without the include, lint says so and uses the usual values.
func TestLintCmdTunables(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "tunables"), 0o755))
	writeProfile(t, dir, "tunables/global", "@{svcroot} = /\n")
	p := writeProfile(t, dir, "svc", "include <tunables/global>\nprofile svc {\n  @{svcroot}** r,\n}\n")
	code, out, errs := runLintCmd(t, "--profile-dir", dir, "--severity-db", "/etc/apparmor/severity.db", p)
	assert.Equal(t, exitError, code, out)
	assert.Contains(t, out, "[broad-path] @{svcroot}** reaches the whole filesystem")
	assert.NotContains(t, errs, "includes not followed")

	q := writeProfile(t, t.TempDir(), "svc2", "include <tunables/nowhere>\nprofile svc2 {\n  @{PROC}/*/mem r,\n}\n")
	code, out, errs = runLintCmd(t, "--profile-dir", dir, "--severity-db", "/etc/apparmor/severity.db", q)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "includes not followed")
	assert.Contains(t, out, "[sensitive-path]")
}
