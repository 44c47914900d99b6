package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/aa-flow/aa-flow/harden"
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

// exportFixture is a managed-looking profile and a seccomp profile to
// export, in a temporary tree; exp runs export NAME with the arguments.
func exportFixture(t *testing.T) (exp func(args ...string) (int, string, string), seccompPath string) {
	t.Helper()
	d := t.TempDir()
	profiles := filepath.Join(d, "apparmor.d")
	require.NoError(t, os.MkdirAll(profiles, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(profiles, "myapp"), []byte("abi <abi/3.0>,\nprofile myapp flags=(attach_disconnected) {\n}\n"), 0o644))
	seccompPath = filepath.Join(d, "seccomp.json")
	require.NoError(t, os.WriteFile(seccompPath, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644))
	return func(args ...string) (int, string, string) {
		var out, errb strings.Builder
		code := run(append([]string{"--profile-dir", profiles, "--state-dir", filepath.Join(d, "state"), "export", "myapp"}, args...), strings.NewReader(""), &out, &errb)
		return code, out.String(), errb.String()
	}, seccompPath
}

// k8sProfile is the Kubernetes API's AppArmorProfile and SeccompProfile
// (core/v1): a type and, for Localhost, the profile.
type k8sProfile struct {
	Type             string `yaml:"type"`
	LocalhostProfile string `yaml:"localhostProfile"`
}

// k8sPod is the part of core/v1 Pod the snippet may hold; decoding with
// KnownFields refuses any key that is not the API's in that place.
type k8sPod struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name        string            `yaml:"name"`
		Annotations map[string]string `yaml:"annotations"`
	} `yaml:"metadata"`
	Spec struct {
		SecurityContext struct {
			AppArmorProfile *k8sProfile `yaml:"appArmorProfile"`
			SeccompProfile  *k8sProfile `yaml:"seccompProfile"`
		} `yaml:"securityContext"`
		Containers []struct {
			Name  string `yaml:"name"`
			Image string `yaml:"image"`
		} `yaml:"containers"`
	} `yaml:"spec"`
}

func TestExportK8sIsAPodSpec(t *testing.T) {
	exp, sc := exportFixture(t)
	for _, withSeccomp := range []bool{false, true} {
		args := []string{"--k8s", "--service", "web", "--container", "app", "--image", "registry.example/app:1.2"}
		if withSeccomp {
			args = append(args, "--seccomp", sc)
		}
		code, out, errs := exp(args...)
		require.Equal(t, 0, code, errs)
		dec := yaml.NewDecoder(strings.NewReader(out))
		dec.KnownFields(true)
		var pod k8sPod
		require.NoError(t, dec.Decode(&pod), "the snippet is one Pod, every key in its place:\n%s", out)
		var more k8sPod
		assert.ErrorIs(t, dec.Decode(&more), io.EOF, "one document")

		assert.Equal(t, "v1", pod.APIVersion)
		assert.Equal(t, "Pod", pod.Kind)
		assert.Equal(t, "web", pod.Metadata.Name)
		require.NotNil(t, pod.Spec.SecurityContext.AppArmorProfile)
		assert.Equal(t, k8sProfile{Type: "Localhost", LocalhostProfile: "myapp"}, *pod.Spec.SecurityContext.AppArmorProfile)
		require.Len(t, pod.Spec.Containers, 1)
		assert.Equal(t, "app", pod.Spec.Containers[0].Name)
		assert.Equal(t, "registry.example/app:1.2", pod.Spec.Containers[0].Image)
		// The beta annotation names a container of the pod and a localhost/ profile.
		assert.Equal(t, map[string]string{"container.apparmor.security.beta.kubernetes.io/app": "localhost/myapp"}, pod.Metadata.Annotations)
		if !withSeccomp {
			assert.Nil(t, pod.Spec.SecurityContext.SeccompProfile)
			continue
		}
		require.NotNil(t, pod.Spec.SecurityContext.SeccompProfile)
		sp := *pod.Spec.SecurityContext.SeccompProfile
		assert.Equal(t, "Localhost", sp.Type)
		assert.False(t, filepath.IsAbs(sp.LocalhostProfile), "the kubelet takes a path relative to its seccomp directory")
		assert.Contains(t, out, "/var/lib/kubelet/seccomp/"+sp.LocalhostProfile, "and the install line puts the file there")
	}
}

// TestExportComposeReadsBack hands the --compose snippet to the Compose
// reader of aa-flow check: the service it names applies the profile and
// the seccomp file.
func TestExportComposeReadsBack(t *testing.T) {
	exp, sc := exportFixture(t)
	code, out, errs := exp("--compose", "--service", "api", "--image", "registry.example/app:1.2", "--seccomp", sc)
	require.Equal(t, 0, code, errs)
	ss, err := harden.FromCompose([]byte(out), "export.yaml")
	require.NoError(t, err, out)
	require.Len(t, ss, 1)
	assert.Equal(t, "api", ss[0].Name)
	assert.Equal(t, "myapp", ss[0].AppArmor)
	assert.True(t, ss[0].AppArmorNamed)
	assert.Equal(t, harden.SeccompCustom, ss[0].Seccomp)
	assert.Equal(t, sc, ss[0].SeccompProfile)
}
