package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
)

// dockerCapture writes the lines of the Docker guest's capture
// (testdata/corpus/kernel/docker) tagged with one of tags, untagged.
func dockerCapture(t *testing.T, dst string, tags ...string) {
	t.Helper()
	in, err := os.Open(testutil.Corpus(t, "kernel", "docker", "debian-13-docker.log"))
	require.NoError(t, err)
	defer in.Close()
	var b bytes.Buffer
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		for _, tag := range tags {
			if rest, ok := strings.CutPrefix(sc.Text(), "["+tag+"] "); ok {
				b.WriteString(rest + "\n")
			}
		}
	}
	require.NoError(t, sc.Err())
	require.NoError(t, os.WriteFile(dst, b.Bytes(), 0o644))
}

// The docker scenario's failure on both guests: learn --check found
// nothing new while webd still ran under complain mode's null- profile,
// which had logged none of its sockets, and enforce then denied its inet6
// probe. With webd's records from the null- profile in what it reads,
// learn --check is not clean and says why.
func TestLearnCheckLearningChild(t *testing.T) {
	d := t.TempDir()
	prof := filepath.Join(d, "ctr-webd.profile")
	require.NoError(t, os.WriteFile(prof, []byte("include <tunables/global>\n\nprofile ctr-webd flags=(attach_disconnected, mediate_deleted, complain) {\n  signal (receive) peer=runc,\n}\n"), 0o644))
	e := &learnEnv{dir: d, profile: prof, state: filepath.Join(d, "state")}
	first, restart := filepath.Join(d, "start.log"), filepath.Join(d, "restart.log")
	dockerCapture(t, first, "start", "workload")
	dockerCapture(t, restart, "restart")

	code, out, errs := e.run("", "learn", "ctr-webd", "--from", first, "--profile-file", prof, "--yes", "--no-load")
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "incomplete: /usr/bin/webd ran under complain mode's ctr-webd//null-/usr/bin/webd profile")
	b, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.Contains(t, string(b), "/usr/bin/webd rmix,")

	code, out, errs = e.run("", "learn", "ctr-webd", "--from", restart, "--profile-file", prof, "--check")
	assert.Equal(t, exitNew, code, "no rule is new, but webd's network use was never logged: %s", errs)
	assert.NotContains(t, out, "+++", "no rule to show")
	assert.Contains(t, out, "ctr-webd: 0 new rules")
	assert.Contains(t, out, "incomplete: /usr/bin/webd ran under complain mode's ctr-webd//null-/usr/bin/webd profile")
	assert.Contains(t, out, "restart it so that it runs under ctr-webd")

	code, out, _ = e.run("", "--json", "learn", "ctr-webd", "--from", restart, "--profile-file", prof, "--check", "--from-start")
	assert.Equal(t, exitNew, code)
	assert.Contains(t, out, `"learning_children": [`)
}
