package main

import (
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tree is a digest of every file and link under the host's directories, to
// show a dry run changed nothing.
func (e *hostEnv) tree(t *testing.T) string {
	t.Helper()
	var lines []string
	for _, root := range []string{e.profiles, e.state, e.secfs} {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			fi, _ := d.Info()
			sum := ""
			if d.Type().IsRegular() {
				b, _ := os.ReadFile(p)
				sum = fmt.Sprintf("%x", sha256.Sum256(b))
			} else if d.Type()&fs.ModeSymlink != 0 {
				sum, _ = os.Readlink(p)
			}
			lines = append(lines, fmt.Sprintf("%s %v %s", p, fi.Mode(), sum))
			return nil
		})
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// --dry-run runs the real run's checks and exits as it would: on a host
// without AppArmor every command that would load fails the same way (init
// --dry-run used to say "would create … loaded" and exit 0, enforce
// --dry-run to exit 4 where the real run exits 1), and a dry run changes
// nothing.
func TestDryRunExitsAsTheRealRun(t *testing.T) {
	e := newHostEnv(t)
	exe := filepath.Join(e.dir, "web")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	code, _, errs := e.run("init", "web", "--exec", exe, "--no-load")
	require.Equal(t, exitOK, code, errs)
	log := filepath.Join(e.dir, "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(avc(time.Now().Add(time.Second), 1, "web", "/etc/secret")), 0o644))
	e.secfs = filepath.Join(e.dir, "no-securityfs")

	cmds := [][]string{
		{"init", "other", "--exec", exe},
		{"enforce", "web", "--from", log, "--quiet-for", "0s"},
		{"enforce", "web", "--force"},
		{"complain", "web"},
		{"rollback", "web", "--to", "1"},
		{"disable", "web"},
		{"enable", "web"},
	}
	for _, c := range cmds {
		before := e.tree(t)
		dcode, dout, derrs := e.run(append(c, "--dry-run")...)
		assert.Equal(t, before, e.tree(t), "%v --dry-run changed the host", c)
		rcode, _, rerrs := e.run(c...)
		assert.Equal(t, rcode, dcode, "%v: the dry run exits %d (%s%s), the real run %d (%s)", c, dcode, dout, derrs, rcode, rerrs)
		assert.Equal(t, exitError, dcode, "%v", c)
		assert.Contains(t, derrs, "AppArmor is not enabled", "%v", c)
	}
}

// With AppArmor there, a dry run passes where the real run passes, refuses
// where the gate refuses, says what it would do in the plan's words, and
// changes nothing.
func TestDryRunPredictsTheRealRun(t *testing.T) {
	e := newHostEnv(t)
	exe := filepath.Join(e.dir, "web")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))

	before := e.tree(t)
	code, out, errs := e.run("init", "web", "--exec", exe, "--dry-run")
	require.Equal(t, exitOK, code, errs)
	assert.Equal(t, before, e.tree(t))
	assert.Contains(t, out, "dry-run: would write "+filepath.Join(e.profiles, "web"))
	assert.Contains(t, out, "dry run: the checks passed and nothing was changed")
	assert.NotContains(t, out, "revision 0")
	code, _, errs = e.run("init", "web", "--exec", exe)
	require.Equal(t, exitOK, code, errs)

	log := filepath.Join(e.dir, "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(avc(time.Now().Add(time.Second), 1, "web", "/etc/secret")), 0o644))
	gate := []string{"enforce", "web", "--from", log, "--quiet-for", "0s"}
	before = e.tree(t)
	dcode, _, _ := e.run(append(gate, "--dry-run")...)
	assert.Equal(t, before, e.tree(t))
	rcode, _, _ := e.run(gate...)
	assert.Equal(t, exitRefused, rcode)
	assert.Equal(t, rcode, dcode, "the dry run refuses as the gate does")

	for _, c := range [][]string{{"disable", "web"}, {"complain", "web"}, {"rollback", "web", "--to", "1"}} {
		before = e.tree(t)
		code, out, errs = e.run(append(c, "--dry-run")...)
		assert.Equal(t, before, e.tree(t), "%v", c)
		assert.NotRegexp(t, `would (unloaded|loaded|wrote|removed|restored)`, out, "%v", c)
		rcode, _, rerrs := e.run(c...)
		assert.Equal(t, rcode, code, "%v: dry run %s / real run %s", c, errs, rerrs)
	}
}
