package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A profile in a subdirectory of the profile directory (containers/, where
// the hardening runbook puts container profiles) is first-class: made
// there by init --profile-dir, then found by learn, enforce, status and
// rollback run with the top directory as usual, and its marker links live
// where AppArmor's tools look for them (the top directory's disable/ and
// force-complain/).
func TestProfileInSubdirectory(t *testing.T) {
	e := newHostEnv(t)
	sub := filepath.Join(e.profiles, "containers")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	// A profile directory has tunables/: that is how a subdirectory's
	// profile finds the directory it belongs to.
	// (Empty: the includes resolve from the system's.)
	require.NoError(t, os.MkdirAll(filepath.Join(e.profiles, "tunables"), 0o755))
	code, out, errs := e.run("--profile-dir", sub, "init", "ctr", "--template", "container")
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, errs, "systemctl enable aa-flow-profiles@containers.service", "init says how to load the subdirectory at boot")
	path := filepath.Join(sub, "ctr")
	assert.Contains(t, out, path)
	assert.FileExists(t, path)
	assert.Equal(t, "ctr (complain)\n", e.kernel(t))

	log := filepath.Join(e.dir, "audit.log")
	now := time.Now()
	require.NoError(t, os.WriteFile(log, []byte(avc(now.Add(time.Second), 1, "ctr", "/etc/ctr.conf")), 0o644))
	code, out, errs = e.run("learn", "ctr", "--from", log, "--yes")
	require.Equal(t, exitOK, code, errs)
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(src), "/etc/ctr.conf r,", out)

	code, out, errs = e.run("status", "ctr", "--from", log)
	assert.Contains(t, []int{exitOK, exitRefused}, code, errs)
	assert.Contains(t, out, path, "status finds the profile in its subdirectory")

	code, _, errs = e.run("enforce", "ctr", "--force")
	require.Equal(t, exitOK, code, errs)
	assert.Equal(t, "ctr (enforce)\n", e.kernel(t))

	code, _, errs = e.run("--profile-dir", sub, "disable", "ctr")
	require.Equal(t, exitOK, code, errs)
	assert.NoFileExists(t, filepath.Join(sub, "disable", "ctr"))
	link := filepath.Join(e.profiles, "disable", "ctr")
	target, err := os.Readlink(link)
	require.NoError(t, err, "the disable link is in the top directory's disable/")
	assert.Equal(t, path, target)
	code, _, errs = e.run("--profile-dir", sub, "enable", "ctr")
	require.Equal(t, exitOK, code, errs)
	_, err = os.Lstat(link)
	assert.True(t, os.IsNotExist(err), "enable removes the link where disable made it")

	code, _, errs = e.run("rollback", "ctr")
	require.Equal(t, exitOK, code, errs)
	assert.Equal(t, "ctr (complain)\n", e.kernel(t))
}

// dist/load-profiles, which aa-flow-profiles@.service runs at boot, loads a
// subdirectory's profiles again after a reboot (an empty kernel), skips
// those linked in disable/ and loads those in force-complain/ in complain
// mode.
func TestLoadProfilesAtBoot(t *testing.T) {
	e := newHostEnv(t)
	sub := filepath.Join(e.profiles, "containers")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(e.profiles, "tunables"), 0o755))
	for _, n := range []string{"ctr", "off", "soft"} {
		code, _, errs := e.run("--profile-dir", sub, "init", n, "--template", "container")
		require.Equal(t, exitOK, code, errs)
		code, _, errs = e.run("enforce", n, "--force")
		require.Equal(t, exitOK, code, errs)
	}
	code, _, errs := e.run("disable", "off")
	require.Equal(t, exitOK, code, errs)
	require.NoError(t, os.MkdirAll(filepath.Join(e.profiles, "force-complain"), 0o755))
	require.NoError(t, os.Symlink(filepath.Join(sub, "soft"), filepath.Join(e.profiles, "force-complain", "soft")))
	require.NoError(t, os.WriteFile(filepath.Join(sub, "ctr.dpkg-old"), []byte("garbage"), 0o644))

	// The reboot: nothing is loaded.
	require.NoError(t, os.WriteFile(filepath.Join(e.secfs, "apparmor", "profiles"), nil, 0o644))
	script, err := filepath.Abs(filepath.Join("..", "..", "dist", "load-profiles"))
	require.NoError(t, err)
	cmd := exec.Command(script, "containers")
	cmd.Env = append(os.Environ(), "AAFLOW_POLICY_ROOT="+e.profiles, "APPARMOR_PARSER="+e.parser)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "ctr (enforce)\nsoft (complain)\n", e.kernel(t))

	for _, bad := range []string{"/etc", "../x", ""} {
		cmd := exec.Command(script, bad)
		cmd.Env = append(os.Environ(), "AAFLOW_POLICY_ROOT="+e.profiles, "APPARMOR_PARSER="+e.parser)
		err := cmd.Run()
		var ee *exec.ExitError
		require.ErrorAs(t, err, &ee, "%q", bad)
		assert.Equal(t, 2, ee.ExitCode(), "%q", bad)
	}
}
