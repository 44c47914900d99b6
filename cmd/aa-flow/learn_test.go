package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/store"
)

// learnEnv is a profile file, a state directory and a log of complain-mode
// records from the kernel capture.
type learnEnv struct {
	dir, profile, state, log string
}

const aatestProfile = `include <tunables/global>

profile aatest flags=(complain) {
  include <abstractions/base>

  # my own rule
  /etc/aatest.conf r,
}
`

func newLearnEnv(t *testing.T) *learnEnv {
	t.Helper()
	d := t.TempDir()
	e := &learnEnv{dir: d, profile: filepath.Join(d, "aatest.profile"), state: filepath.Join(d, "state"), log: filepath.Join(d, "complain.log")}
	require.NoError(t, os.WriteFile(e.profile, []byte(aatestProfile), 0o644))
	in, err := os.Open(testutil.Corpus(t, "kernel", "debian-6.1-dmesg-scenario.log"))
	require.NoError(t, err)
	defer in.Close()
	var b bytes.Buffer
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "[complain] "); ok {
			b.WriteString(rest + "\n")
		}
	}
	require.NoError(t, os.WriteFile(e.log, b.Bytes(), 0o644))
	return e
}

func (e *learnEnv) run(stdin string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	full := append([]string{"--state-dir", e.state, "--profile-dir", filepath.Join(e.dir, "apparmor.d")}, args...)
	code := run(full, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func compiles(t *testing.T, path string) {
	t.Helper()
	r := &aaparser.Runner{}
	_, err := r.CompileFile(context.Background(), path)
	require.NoError(t, err)
}

// learn --check reports new behaviour with exit 3 and writes nothing.
func TestLearnCheck(t *testing.T) {
	e := newLearnEnv(t)
	code, out, errs := e.run("", "learn", "aatest", "--from", e.log, "--profile-file", e.profile, "--check")
	assert.Equal(t, exitNew, code, errs)
	assert.Contains(t, out, "+  capability chown,  # r1 sev 9, 1 record")
	assert.Contains(t, out, "+  owner link /tmp/x.link -> /tmp/x,")
	assert.Contains(t, out, "1 already allowed")
	assert.Empty(t, errs)
	got, _ := os.ReadFile(e.profile)
	assert.Equal(t, aatestProfile, string(got))
	_, err := os.Stat(e.state)
	assert.True(t, os.IsNotExist(err), "--check writes no state")
}

// learn without a terminal saves the proposal and exits 3; diff shows it
// again; apply writes chosen rules; learning the same log again afterwards
// finds nothing new.
func TestLearnDiffApply(t *testing.T) {
	e := newLearnEnv(t)
	pf := []string{"--profile-file", e.profile}
	code, _, errs := e.run("", append([]string{"learn", "aatest", "--from", e.log}, pf...)...)
	require.Equal(t, exitNew, code, errs)

	code, out, errs := e.run("", append([]string{"diff", "aatest"}, pf...)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "+  capability chown,  # r1")

	code, out, _ = e.run("", append([]string{"--json", "diff", "aatest"}, pf...)...)
	require.Equal(t, exitOK, code)
	var prop struct {
		Profile string
		Rules   []struct{ ID, Text string }
	}
	require.NoError(t, json.Unmarshal([]byte(out), &prop))
	assert.Equal(t, "aatest", prop.Profile)
	require.NotEmpty(t, prop.Rules)
	n := len(prop.Rules)

	code, _, errs = e.run("", append([]string{"apply", "aatest"}, pf...)...)
	assert.Equal(t, exitUsage, code, "a selection is required")
	assert.Contains(t, errs, "--all")
	code, _, errs = e.run("", append([]string{"apply", "aatest", "--only", "r99"}, pf...)...)
	assert.Equal(t, exitError, code, "a rule ID the proposal lacks is a data error")
	assert.Contains(t, errs, "no rule r99")

	// Dry run: nothing changes.
	code, out, errs = e.run("", append([]string{"apply", "aatest", "--all", "--dry-run", "--no-load"}, pf...)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "would write "+e.profile)
	got, _ := os.ReadFile(e.profile)
	assert.Equal(t, aatestProfile, string(got))

	code, out, errs = e.run("", append([]string{"apply", "aatest", "--only", "r1,r2", "--no-load"}, pf...)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "2 rule line(s) written")
	got, _ = os.ReadFile(e.profile)
	assert.Contains(t, string(got), "  # my own rule\n  /etc/aatest.conf r,\n")
	assert.Contains(t, string(got), "  capability chown,\n  capability setuid,\n}\n")
	compiles(t, e.profile)

	code, out, _ = e.run("", append([]string{"--json", "diff", "aatest"}, pf...)...)
	require.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(out), &prop))
	assert.Len(t, prop.Rules, n-2, "applied rules leave the proposal")

	code, _, errs = e.run("", append([]string{"apply", "aatest", "--all", "--no-load"}, pf...)...)
	require.Equal(t, exitOK, code, errs)
	compiles(t, e.profile)
	code, _, errs = e.run("", append([]string{"diff", "aatest"}, pf...)...)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "no pending proposal")

	code, out, errs = e.run("", append([]string{"learn", "aatest", "--from", e.log, "--check"}, pf...)...)
	assert.Equal(t, exitOK, code, "everything learned is now allowed:\n%s%s", out, errs)
	assert.Contains(t, out, "aatest: 0 new rules")
}

// review reads answers from standard input.
func TestReviewCommand(t *testing.T) {
	e := newLearnEnv(t)
	pf := []string{"--profile-file", e.profile}
	code, _, errs := e.run("", append([]string{"learn", "aatest", "--from", e.log}, pf...)...)
	require.Equal(t, exitNew, code, errs)
	// Accept r1, reject r2, reject the rest, then confirm.
	code, out, errs := e.run("y\nn\nN\ny\n", append([]string{"review", "aatest", "--no-load"}, pf...)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "(1/")
	assert.Contains(t, out, "1 rule line(s) written")
	got, _ := os.ReadFile(e.profile)
	assert.Contains(t, string(got), "capability chown,")
	assert.NotContains(t, string(got), "capability setuid,")
	compiles(t, e.profile)
}

// learn --yes on a managed profile applies everything as a new revision.
func TestLearnYesManaged(t *testing.T) {
	e := newLearnEnv(t)
	st := &store.Store{ProfileDir: filepath.Join(e.dir, "apparmor.d"), StateDir: e.state}
	require.NoError(t, os.MkdirAll(st.ProfileDir, 0o755))
	path := filepath.Join(st.ProfileDir, "aatest")
	require.NoError(t, os.WriteFile(path, []byte(aatestProfile), 0o644))
	require.NoError(t, st.Manage(store.Meta{Name: "aatest", Profile: path}))
	code, out, errs := e.run("", "learn", "aatest", "--from", e.log, "--yes", "--no-load")
	require.Equal(t, exitOK, code, "%s%s", out, errs)
	assert.Contains(t, out, "written to "+path)
	compiles(t, path)
	revs, err := st.Revisions("aatest")
	require.NoError(t, err)
	assert.NotEmpty(t, revs)
	code, out, _ = e.run("", "learn", "aatest", "--from", e.log)
	assert.Equal(t, exitOK, code, out)
}

// /dev/kmsg never ends; learn reads up to the newest record and returns.
func TestLearnKmsg(t *testing.T) {
	e := newLearnEnv(t)
	code, out, errs := e.run("", "learn", "aatest", "--from", "/dev/kmsg", "--profile-file", e.profile, "--check")
	assert.Contains(t, out, "aatest: ")
	if code == exitError {
		// a kernel log without a record for the profile is no evidence
		assert.Contains(t, errs, "nothing to learn from")
		return
	}
	assert.Contains(t, []int{exitOK, exitNew}, code, errs)
}
