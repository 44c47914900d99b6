package doctor

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
)

// fakeHost is a host with everything aa-flow needs, in a scratch directory:
// a parser that names its version, Debian's abi/3.0, a securityfs with
// AppArmor's profile list and feature tree, and safe directories.
func fakeHost(t *testing.T) Host {
	t.Helper()
	d := t.TempDir()
	h := Host{Parser: filepath.Join(d, "apparmor_parser"), ABIDir: filepath.Join(d, "apparmor.d", "abi"),
		ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state"), Securityfs: filepath.Join(d, "sys"),
		LogSource: func() (LogSource, error) {
			return LogSource{Kind: "auditd", Name: "/var/log/audit/audit.log", Why: "auditd runs as pid 7", Trusted: true}, nil
		}}
	require.NoError(t, os.WriteFile(h.Parser, []byte("#!/bin/sh\necho 'AppArmor parser version 4.1.0'\n"), 0o755))
	abi, err := os.ReadFile(aaparser.ABI30Features)
	require.NoError(t, err, "Debian's apparmor package is required (make deps)")
	require.NoError(t, os.MkdirAll(h.ABIDir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(h.ABIDir, "3.0"), abi, 0o644))
	f, err := kernel.ParseFeatures(abi)
	require.NoError(t, err)
	for k, v := range f {
		p := filepath.Join(h.Securityfs, "apparmor", "features", filepath.FromSlash(k))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(v+"\n"), 0o444))
	}
	require.NoError(t, os.WriteFile(filepath.Join(h.Securityfs, "apparmor", "profiles"), []byte("web (enforce)\nweb//hat (enforce)\n"), 0o444))
	require.NoError(t, os.WriteFile(filepath.Join(h.Securityfs, "lsm"), []byte("lockdown,capability,apparmor"), 0o444))
	return h
}

func byName(cs []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

func TestHealthyHost(t *testing.T) {
	h := fakeHost(t)
	cs := Run(context.Background(), h)
	require.Len(t, cs, 8)
	assert.Empty(t, Failed(cs, false))
	m := byName(cs)
	assert.Equal(t, "apparmor_parser 4.1.0 ("+h.Parser+")", m["parser"].Detail)
	assert.Equal(t, h.ABIDir+": 3.0", m["abi files"].Detail)
	assert.Equal(t, "enabled, 2 profiles loaded (security modules: lockdown,capability,apparmor)", m["AppArmor"].Detail)
	assert.Equal(t, "abi/3.0 (policy v5-v8)", m["kernel ABI"].Detail)
	assert.Contains(t, m["log source"].Detail, "auditd: /var/log/audit/audit.log (auditd runs as pid 7)")
	assert.Equal(t, h.StateDir+" does not exist yet; aa-flow init creates it (mode 0700)", m["state directory"].Detail)
	assert.Contains(t, m["profile directory"].Detail, "(mode 0755, not writable by others)")

	require.NoError(t, os.Chmod(h.ProfileDir, 0o775))
	assert.Equal(t, "chown root:root "+h.ProfileDir+" && chmod go-w "+h.ProfileDir, byName(Run(context.Background(), h))["profile directory"].Fix)
}

func TestBrokenHost(t *testing.T) {
	for _, tc := range []struct {
		name     string
		break_   func(t *testing.T, h *Host)
		check    string
		required bool
		detail   string
		fix      string
	}{
		{"no parser", func(t *testing.T, h *Host) { h.Parser = filepath.Join(filepath.Dir(h.Parser), "none") }, "parser", true,
			"none not found", "apt install apparmor"},
		{"no abi files", func(t *testing.T, h *Host) { require.NoError(t, os.Remove(filepath.Join(h.ABIDir, "3.0"))) }, "abi files", true,
			"cannot compile", "apt install --reinstall apparmor"},
		{"securityfs not mounted", func(t *testing.T, h *Host) {
			require.NoError(t, os.RemoveAll(h.Securityfs))
			require.NoError(t, os.Mkdir(h.Securityfs, 0o755))
		},
			"securityfs", true, "not mounted at", "mount -t securityfs securityfs"},
		{"AppArmor off", func(t *testing.T, h *Host) { require.NoError(t, os.RemoveAll(filepath.Join(h.Securityfs, "apparmor"))) },
			"AppArmor", true, "AppArmor is not enabled in this kernel", "apparmor=1"},
		{"old kernel", func(t *testing.T, h *Host) {
			require.NoError(t, os.RemoveAll(filepath.Join(h.Securityfs, "apparmor", "features", "network_v8")))
		}, "kernel ABI", false, "the kernel lacks features of every abi file", "update the kernel"},
		{"syslog", func(t *testing.T, h *Host) {
			h.LogSource = func() (LogSource, error) {
				return LogSource{Kind: "syslog", Name: "/var/log/syslog", Why: "no auditd or journald"}, nil
			}
		}, "log source", false, "a syslog file cannot prove a line came from the kernel", "apt install auditd"},
		{"no log", func(t *testing.T, h *Host) {
			h.LogSource = func() (LogSource, error) { return LogSource{}, errors.New("no AppArmor log found") }
		}, "log source", true, "no AppArmor log found", "--from"},
		{"profile dir writable by others", func(t *testing.T, h *Host) { require.NoError(t, os.Chmod(h.ProfileDir, 0o777)) },
			"profile directory", true, "writable by group or others", "&& chmod go-w"},
		{"no profile dir", func(t *testing.T, h *Host) { h.ProfileDir = filepath.Join(h.ProfileDir, "none") }, "profile directory", true,
			"does not exist", "--profile-dir"},
		{"state dir is a symlink", func(t *testing.T, h *Host) { require.NoError(t, os.Symlink(h.ProfileDir, h.StateDir)) },
			"state directory", true, "is a symlink", "chown root:root"},
		{"state dir under an open parent", func(t *testing.T, h *Host) {
			open := filepath.Join(filepath.Dir(h.StateDir), "open")
			require.NoError(t, os.Mkdir(open, 0o777))
			require.NoError(t, os.Chmod(open, 0o777))
			h.StateDir = filepath.Join(open, "state")
		}, "state directory", true, "does not exist yet and its parent is unsafe", "chmod go-w"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := fakeHost(t)
			tc.break_(t, &h)
			cs := Run(context.Background(), h)
			c := byName(cs)[tc.check]
			assert.False(t, c.OK)
			assert.Equal(t, tc.required, c.Required)
			assert.Contains(t, c.Detail, tc.detail)
			assert.Contains(t, c.Fix, tc.fix)
			assert.Contains(t, Failed(cs, false), c)
			if tc.required {
				assert.Contains(t, Failed(cs, true), c)
			} else {
				assert.NotContains(t, Failed(cs, true), c)
			}
		})
	}
}
