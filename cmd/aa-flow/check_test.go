package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fixture is a file of the harden package's test data.
func fixture(name string) string { return filepath.Join("..", "..", "harden", "testdata", name) }

// fakeDocker writes a docker CLI stand-in that prints the inspect fixture
// for "inspect" and the info fixture for "info", and records its
// arguments.
func fakeDocker(t *testing.T, inspect, info string) (bin, argLog string) {
	t.Helper()
	d := t.TempDir()
	bin, argLog = filepath.Join(d, "docker"), filepath.Join(d, "args")
	in, err := filepath.Abs(fixture(inspect))
	require.NoError(t, err)
	inf, err := filepath.Abs(fixture(info))
	require.NoError(t, err)
	script := fmt.Sprintf(`#!/bin/sh
echo "$@" >> %q
case "$1" in
inspect) cat %q ;;
info) cat %q ;;
*) echo "unknown $1" >&2; exit 1 ;;
esac
`, argLog, in, inf)
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	return bin, argLog
}

func runCheck(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb strings.Builder
	code := run(append([]string{"check", "--securityfs", t.TempDir()}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckLiveContainer(t *testing.T) {
	bin, argLog := fakeDocker(t, "inspect-hardened.json", "docker-info-userns.json")
	code, out, errs := runCheck(t, "", "--docker", bin, "payment-api")
	assert.Equal(t, 0, code, "%s%s", out, errs)
	assert.Contains(t, out, "✓ AppArmor profile named for the application: docker-payment-api (the kernel cannot be asked")
	assert.Contains(t, out, "✓ user-namespace remapping")
	assert.Contains(t, out, "payment-api: every required item passes")
	args, err := os.ReadFile(argLog)
	require.NoError(t, err)
	assert.Equal(t, "inspect --type container payment-api\ninfo --format {{json .}}\n", string(args))
}

func TestCheckWeakFails(t *testing.T) {
	b, err := os.ReadFile(fixture("inspect-weak.json"))
	require.NoError(t, err)
	code, out, _ := runCheck(t, string(b), "--inspect", "-")
	assert.Equal(t, 1, code)
	for _, weakness := range []string{
		"✗ not --privileged", "✗ seccomp filter: --privileged runs without seccomp", "✗ no-new-privileges",
		"✗ Docker socket not mounted: /var/run/docker.sock", "✗ AppArmor profile named for the application: docker-default",
		"✗ non-root user: runs as root (0)", "✗ --pids-limit set", "✗ memory limit", "✗ read-only root filesystem",
	} {
		assert.Contains(t, out, weakness)
	}
}

func TestCheckJSONAndCompose(t *testing.T) {
	code, out, errs := runCheck(t, "", "--compose", fixture("compose-weak.yaml"), "--no-kernel", "--json")
	assert.Equal(t, 1, code, errs)
	var rep struct {
		OK         bool `json:"ok"`
		Containers []struct {
			Name  string `json:"name"`
			OK    bool   `json:"ok"`
			Items []struct {
				ID, Status string
			} `json:"items"`
		} `json:"containers"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.False(t, rep.OK)
	require.Len(t, rep.Containers, 2)
	assert.Equal(t, "agent", rep.Containers[0].Name)

	code, _, errs = runCheck(t, "", "--compose", fixture("compose-hardened.yaml"), "--no-kernel", "--info", fixture("docker-info-plain.json"))
	assert.Equal(t, 0, code, errs)
}

func TestCheckUsageAndErrors(t *testing.T) {
	code, _, errs := runCheck(t, "")
	assert.Equal(t, 2, code, errs)
	code, _, errs = runCheck(t, "", "web", "--compose", "x.yaml")
	assert.Equal(t, 2, code, errs)
	code, _, errs = runCheck(t, "not json", "--inspect", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "--inspect -: unreadable container settings")
	code, _, errs = runCheck(t, "", "--docker", filepath.Join(t.TempDir(), "no-docker"), "web")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "inspect")
}

func TestCheckAsksTheKernel(t *testing.T) {
	b, err := os.ReadFile(fixture("inspect-hardened.json"))
	require.NoError(t, err)
	for _, tc := range []struct {
		loaded string
		code   int
		want   string
	}{
		{"docker-payment-api (enforce)\n", 0, "✓ AppArmor profile named for the application: docker-payment-api (enforce)"},
		{"docker-payment-api (complain)\n", 1, "✗ AppArmor profile named for the application: docker-payment-api is loaded in complain mode"},
		{"other (enforce)\n", 1, "is not loaded in this kernel"},
	} {
		secfs := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(secfs, "apparmor"), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(secfs, "apparmor", "profiles"), []byte(tc.loaded), 0o644))
		var out, errb strings.Builder
		code := run([]string{"check", "--securityfs", secfs, "--inspect", "-"}, strings.NewReader(string(b)), &out, &errb)
		assert.Equal(t, tc.code, code, errb.String())
		assert.Contains(t, out.String(), tc.want)
	}
}

// The docker-check scenario's containers, as the Debian 13 guest's docker
// inspect and docker info printed them, through a docker CLI stand-in:
// the weak one fails each item (--json read back), the hardened one, on
// the engine with userns-remap, passes every item.
func TestCheckGuestContainers(t *testing.T) {
	secfs := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(secfs, "apparmor"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(secfs, "apparmor", "profiles"), []byte("ctr-chk (enforce)\nrunc (unconfined)\n"), 0o644))
	check := func(inspect, info string, args ...string) (int, string) {
		bin, _ := fakeDocker(t, inspect, info)
		var out, errb strings.Builder
		code := run(append([]string{"check", "--securityfs", secfs, "--docker", bin}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := check("debian-13-inspect-weak.json", "debian-13-docker-info.json", "weak", "--json")
	assert.Equal(t, 1, code, out)
	var rep struct {
		OK         bool `json:"ok"`
		Containers []struct {
			Items []struct{ ID, Status, Detail string } `json:"items"`
		} `json:"containers"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep), out)
	assert.False(t, rep.OK)
	require.Len(t, rep.Containers, 1)
	got := map[string]string{}
	for _, it := range rep.Containers[0].Items {
		got[it.ID] = it.Status
	}
	assert.Equal(t, map[string]string{
		"apparmor": "fail", "seccomp": "fail", "privileged": "fail", "no-new-privileges": "fail",
		"cap-drop": "fail", "read-only": "fail", "user": "fail", "pids-limit": "fail", "memory": "fail",
		"docker-socket": "fail", "userns": "warn",
	}, got)

	code, out = check("debian-13-inspect-hardened.json", "debian-13-docker-info-userns.json", "chk")
	assert.Equal(t, 0, code, out)
	assert.Equal(t, 11, strings.Count(out, "\n  ✓ "), out)
	assert.Contains(t, out, "✓ AppArmor profile named for the application: ctr-chk (enforce)")
	assert.Contains(t, out, "✓ user-namespace remapping: the engine remaps container root to an unprivileged host user")
}
