package templates

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seccompExport is an export with a learned seccomp profile beside the
// AppArmor one.
func seccompExport(kind string) Export {
	return Export{Kind: kind, Name: "myapp", ProfilePath: "/etc/apparmor.d/myapp", Mode: "enforce",
		Service: "web", Container: "app", Image: "registry.example/app:1.2",
		SeccompPath:        "/var/lib/aa-flow/myapp/seccomp.json",
		SeccompAllow:       []string{"close", "execve", "exit_group", "fstat", "openat", "read", "write"},
		SeccompConditional: []string{"clone"}}
}

func TestRenderExportSeccomp(t *testing.T) {
	want := map[string][]string{
		"docker":     {"--security-opt apparmor=myapp --security-opt seccomp=/var/lib/aa-flow/myapp/seccomp.json registry.example/app:1.2"},
		"compose":    {"      - apparmor=myapp\n      - seccomp=/var/lib/aa-flow/myapp/seccomp.json\n"},
		"kubernetes": {"    seccompProfile:\n      type: Localhost\n      localhostProfile: aa-flow/myapp.json\n", "/var/lib/kubelet/seccomp/aa-flow/myapp.json"},
		"systemd":    {"SystemCallFilter=close execve exit_group fstat openat read write clone\nSystemCallErrorNumber=EPERM\n", "outright (clone)"},
	}
	for _, kind := range ExportKinds() {
		t.Run(kind, func(t *testing.T) {
			out, err := RenderExport(seccompExport(kind))
			require.NoError(t, err)
			checkGolden(t, filepath.Join("testdata", "export", kind+"-seccomp.txt"), out)
			for _, w := range want[kind] {
				assert.Contains(t, string(out), w)
			}
		})
	}
	// A learning profile allows nothing outright: an empty
	// SystemCallFilter= would reset the filter, so none is written (the
	// Debian 12 guest ran a unit with one, unfiltered).
	learning := seccompExport("systemd")
	learning.SeccompAllow, learning.SeccompConditional = nil, nil
	out, err := RenderExport(learning)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "\nSystemCallFilter=")
	assert.Contains(t, string(out), "allows no syscall outright yet")
	assert.Contains(t, string(out), "AppArmorProfile=myapp\n")
	bad := seccompExport("systemd")
	bad.SeccompAllow = append(bad.SeccompAllow, "read write")
	_, err = RenderExport(bad)
	assert.Error(t, err)
	bad = seccompExport("docker")
	bad.SeccompPath = "/tmp/x y.json"
	_, err = RenderExport(bad)
	assert.Error(t, err)
}

// TestSystemdSnippetVerifies hands the systemd snippet, as a unit's
// [Service] section, to systemd-analyze verify, the tool that reads it: no
// key may be unknown and no system call name unparsable.
func TestSystemdSnippetVerifies(t *testing.T) {
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	for _, e := range []Export{seccompExport("systemd"), {Kind: "systemd", Name: "myapp", ProfilePath: "/etc/apparmor.d/myapp"}} {
		out, err := RenderExport(e)
		require.NoError(t, err)
		unit := filepath.Join(t.TempDir(), "web.service")
		require.NoError(t, os.WriteFile(unit, append([]byte("[Unit]\nDescription=export test\n\n[Service]\nExecStart=/bin/true\n\n"), out...), 0o644))
		res, err := exec.Command(sa, "verify", "--man=no", unit).CombinedOutput()
		require.NoError(t, err, "%s", res)
		warn := regexp.MustCompile(regexp.QuoteMeta(unit) + `:\d+: .*`)
		assert.Empty(t, warn.FindAllString(string(res), -1), "systemd-analyze verify:\n%s\nunit:\n%s", res, out)
		assert.True(t, strings.Contains(string(out), "AppArmorProfile=myapp"))
	}
}
