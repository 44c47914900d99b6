package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestExportK8sAliasAndSeccomp(t *testing.T) {
	d := t.TempDir()
	profiles := filepath.Join(d, "apparmor.d")
	require.NoError(t, os.MkdirAll(profiles, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(profiles, "myapp"), []byte("abi <abi/3.0>,\nprofile myapp flags=(attach_disconnected) {\n}\n"), 0o644))
	exp := func(args ...string) (int, string, string) {
		var out, errb strings.Builder
		code := run(append([]string{"--profile-dir", profiles, "--state-dir", filepath.Join(d, "state"), "export", "myapp"}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}
	code, k8s, errs := exp("--k8s")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, k8s, "localhostProfile: myapp")
	code, kube, _ := exp("--kubernetes")
	require.Equal(t, 0, code)
	assert.Equal(t, k8s, kube, "--kubernetes stays an alias of --k8s")
	assert.NotContains(t, k8s, "seccompProfile", "no seccomp profile, no seccomp lines")

	sc := filepath.Join(d, "seccomp.json")
	require.NoError(t, os.WriteFile(sc, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"},{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]}]}`), 0o644))
	code, out, errs := exp("--systemd", "--seccomp", sc)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "SystemCallFilter=read write clone\n")
	code, out, _ = exp("--docker", "--seccomp", sc)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "--security-opt seccomp="+sc)

	require.NoError(t, os.WriteFile(sc, []byte(`{"syscalls":[]}`), 0o644))
	code, _, errs = exp("--docker", "--seccomp", sc)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "not a seccomp profile")
	code, _, _ = exp("--docker", "--k8s")
	assert.Equal(t, 2, code)
}
