package harden

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
)

func read(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// statuses maps item ID to verdict, for compact assertions.
func statuses(r Report) map[string]Status {
	m := map[string]Status{}
	for _, it := range r.Items {
		m[it.ID] = it.Status
	}
	return m
}

func kernelWith(modes map[string]string) Host {
	return Host{ProfileMode: func(n string) (string, bool, error) {
		m, ok := modes[n]
		return m, ok, nil
	}}
}

func TestHardenedInspectPasses(t *testing.T) {
	cs, err := FromInspect(read(t, "inspect-hardened.json"))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	s := cs[0]
	assert.Equal(t, "payment-api", s.Name)
	assert.Equal(t, SeccompCustom, s.Seccomp)
	assert.True(t, s.AppArmorNamed)
	assert.Equal(t, 8821, s.PID)

	r := Check(s, kernelWith(map[string]string{"docker-payment-api": "enforce"}))
	assert.True(t, r.OK, "%+v", r.Items)
	for id, st := range statuses(r) {
		if id != "userns" {
			assert.Equal(t, Pass, st, id)
		}
	}
	assert.Equal(t, Unknown, statuses(r)["userns"])
}

func TestWeakInspectFailsNamingEachWeakness(t *testing.T) {
	cs, err := FromInspect(read(t, "inspect-weak.json"))
	require.NoError(t, err)
	require.Len(t, cs, 2)

	priv := Check(cs[0], Host{})
	assert.False(t, priv.OK)
	assert.Equal(t, map[string]Status{
		"apparmor": Fail, "seccomp": Fail, "privileged": Fail, "no-new-privileges": Fail,
		"cap-drop": Fail, "read-only": Fail, "user": Fail, "pids-limit": Fail, "memory": Fail,
		"docker-socket": Fail, "userns": Unknown,
	}, statuses(priv))

	def := Check(cs[1], Host{})
	assert.False(t, def.OK)
	st := statuses(def)
	assert.Equal(t, Fail, st["apparmor"], "docker-default is not an application profile")
	assert.Equal(t, Warn, st["seccomp"], "the default seccomp profile is a baseline warning")
	assert.Equal(t, Pass, st["privileged"])
	assert.Equal(t, Fail, st["user"], "uid 0 is root")
	assert.Equal(t, Pass, st["docker-socket"])
}

func TestAppArmorKernelMode(t *testing.T) {
	cs, err := FromInspect(read(t, "inspect-hardened.json"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		host Host
		want Status
		ok   bool
	}{
		{"enforce", kernelWith(map[string]string{"docker-payment-api": "enforce"}), Pass, true},
		{"complain", kernelWith(map[string]string{"docker-payment-api": "complain"}), Fail, false},
		{"not loaded", kernelWith(map[string]string{}), Fail, false},
		{"kernel not asked", Host{}, Pass, true},
		{"kernel cannot say", Host{ProfileMode: func(string) (string, bool, error) { return "", false, errors.New("no securityfs") }}, Pass, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Check(cs[0], tc.host)
			assert.Equal(t, tc.want, statuses(r)["apparmor"])
			assert.Equal(t, tc.ok, r.OK)
		})
	}
}

func TestSecurityOpts(t *testing.T) {
	for _, tc := range []struct {
		opts    []string
		seccomp Seccomp
		nnp     bool
		aa      string
	}{
		{nil, SeccompDefault, false, ""},
		{[]string{"seccomp=unconfined"}, SeccompUnconfined, false, ""},
		{[]string{"seccomp:unconfined", "apparmor:web"}, SeccompUnconfined, false, "web"},
		{[]string{`seccomp={"defaultAction":"SCMP_ACT_ERRNO"}`, "no-new-privileges:true"}, SeccompCustom, true, ""},
		{[]string{"seccomp=./p.json", "no-new-privileges=false"}, SeccompCustom, false, ""},
		{[]string{"seccomp=builtin", "no-new-privileges", "apparmor=a:b"}, SeccompDefault, true, "a:b"},
	} {
		var s Settings
		require.NoError(t, s.securityOpts(tc.opts), "%v", tc.opts)
		assert.Equal(t, tc.seccomp, s.Seccomp, "%v", tc.opts)
		assert.Equal(t, tc.nnp, s.NoNewPrivileges, "%v", tc.opts)
		assert.Equal(t, tc.aa, s.AppArmor, "%v", tc.opts)
	}
	var s Settings
	assert.Error(t, s.securityOpts([]string{"no-new-privileges:maybe"}))
}

func TestCompose(t *testing.T) {
	good, err := FromCompose(read(t, "compose-hardened.yaml"), "compose-hardened.yaml")
	require.NoError(t, err)
	require.Len(t, good, 2)
	for _, s := range good {
		r := Check(s, Host{})
		assert.True(t, r.OK, "%s: %+v", s.Name, r.Items)
	}
	assert.Equal(t, "./seccomp-profile.json", good[0].SeccompProfile)
	assert.Equal(t, int64(50), good[1].PidsLimit)

	weak, err := FromCompose(read(t, "compose-weak.yaml"), "compose-weak.yaml")
	require.NoError(t, err)
	require.Len(t, weak, 2)
	agent := statuses(Check(weak[0], Host{}))
	assert.Equal(t, Fail, agent["privileged"])
	assert.Equal(t, Fail, agent["seccomp"])
	assert.Equal(t, Fail, agent["docker-socket"])
	assert.Equal(t, Unknown, agent["user"], "a Compose file cannot see the image's USER")
	web := statuses(Check(weak[1], Host{}))
	assert.Equal(t, Fail, web["user"])
	assert.Equal(t, Fail, web["docker-socket"], "/run holds the socket")
}

func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    func() error
	}{
		{"not json", func() error { _, err := FromInspect([]byte("Error: No such object: web")); return err }},
		{"empty array", func() error { _, err := FromInspect([]byte("[]")); return err }},
		{"an image", func() error { _, err := FromInspect([]byte(`[{"Id":"sha256:1","RepoTags":["x"]}]`)); return err }},
		{"wrong type", func() error {
			_, err := FromInspect([]byte(`[{"HostConfig":{"Privileged":"yes"},"Config":{}}]`))
			return err
		}},
		{"no services", func() error { _, err := FromCompose([]byte("version: '3'\n"), "c.yaml"); return err }},
		{"bad pids", func() error {
			_, err := FromCompose([]byte("services:\n  a:\n    pids_limit: lots\n"), "c.yaml")
			if err != nil {
				assert.Contains(t, err.Error(), "line 3")
			}
			return err
		}},
		{"bad yaml", func() error { _, err := FromCompose([]byte("services: [\n"), "c.yaml"); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.f()
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInput)
		})
	}
}

func TestUsernsFromInfo(t *testing.T) {
	on, known, err := UsernsFromInfo(read(t, "docker-info-userns.json"))
	require.NoError(t, err)
	assert.True(t, on)
	assert.True(t, known)
	on, known, err = UsernsFromInfo(read(t, "docker-info-plain.json"))
	require.NoError(t, err)
	assert.False(t, on)
	assert.True(t, known)
	_, known, err = UsernsFromInfo([]byte(`{}`))
	require.NoError(t, err)
	assert.False(t, known)
	_, _, err = UsernsFromInfo([]byte(`nope`))
	assert.ErrorIs(t, err, ErrInput)

	s := Settings{UsernsMode: ""}
	assert.Equal(t, Pass, checkUserns(s, Host{UsernsRemap: func() (bool, bool) { return true, true }}).Status)
	assert.Equal(t, Warn, checkUserns(s, Host{UsernsRemap: func() (bool, bool) { return false, true }}).Status)
	s.UsernsMode = "host"
	assert.Equal(t, Warn, checkUserns(s, Host{UsernsRemap: func() (bool, bool) { return true, true }}).Status)
}

func TestWriteTextGolden(t *testing.T) {
	var reports []Report
	for _, f := range []string{"inspect-hardened.json", "inspect-weak.json"} {
		cs, err := FromInspect(read(t, f))
		require.NoError(t, err)
		for _, s := range cs {
			reports = append(reports, Check(s, kernelWith(map[string]string{"docker-payment-api": "enforce"})))
		}
	}
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, reports))
	testutil.Golden(t, filepath.Join("testdata", "golden", "inspect.txt"), b.Bytes())
}

func TestSeccompLearningProfileWarns(t *testing.T) {
	for _, tc := range []struct {
		opt  string
		want Status
		text string
	}{
		{`seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_LOG"}]}`, Warn, "a learning profile"},
		{`seccomp={"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`, Pass, "allowing 2 syscalls"},
		{`seccomp={"defaultAction":`, Unknown, "cannot read"},
	} {
		var s Settings
		require.NoError(t, s.securityOpts([]string{tc.opt}))
		it := checkSeccomp(s)
		assert.Equal(t, tc.want, it.Status, tc.opt)
		assert.Contains(t, it.Detail, tc.text)
	}
}
