package kernel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseProfiles(t *testing.T) {
	ps, err := ParseProfiles([]byte("docker-default (enforce)\nweb (complain)\nweb//hat (complain)\n/usr/sbin/my daemon (enforce)\n\n"))
	require.NoError(t, err)
	assert.Equal(t, []Profile{
		{"docker-default", "enforce"}, {"web", "complain"}, {"web//hat", "complain"}, {"/usr/sbin/my daemon", "enforce"},
	}, ps)
	_, err = ParseProfiles([]byte("web (complain)\ngarbage\n"))
	assert.ErrorContains(t, err, "line 2")
}

func fakeFS(t *testing.T) *FS {
	t.Helper()
	d := t.TempDir()
	k := &FS{Securityfs: filepath.Join(d, "sys"), Proc: filepath.Join(d, "proc")}
	require.NoError(t, os.MkdirAll(filepath.Join(k.Securityfs, "apparmor"), 0o755))
	require.NoError(t, os.WriteFile(k.ProfilesPath(), []byte("web (enforce)\nweb//hat (enforce)\nother (complain)\n"), 0o444))
	proc := func(pid, comm, current string, newAttr bool) {
		dir := filepath.Join(k.Proc, pid)
		attr := filepath.Join(dir, "attr")
		if newAttr {
			attr = filepath.Join(attr, "apparmor")
		}
		require.NoError(t, os.MkdirAll(attr, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "comm"), []byte(comm+"\n"), 0o444))
		require.NoError(t, os.WriteFile(filepath.Join(attr, "current"), []byte(current), 0o444))
	}
	proc("1", "init", "unconfined\n", false)
	proc("20", "web", "web (enforce)\n", false)
	proc("21", "web", "web//hat (enforce)\x00", true)
	proc("300", "webby", "webby (complain)\n", false)
	require.NoError(t, os.MkdirAll(filepath.Join(k.Proc, "self"), 0o755))
	return k
}

func TestFS(t *testing.T) {
	k := fakeFS(t)
	require.NoError(t, k.Available())
	mode, loaded, err := k.Mode("web")
	require.NoError(t, err)
	assert.True(t, loaded)
	assert.Equal(t, "enforce", mode)
	_, loaded, err = k.Mode("nope")
	require.NoError(t, err)
	assert.False(t, loaded)

	ps, err := k.Processes()
	require.NoError(t, err)
	require.Len(t, ps, 4)
	assert.Equal(t, Process{PID: 1, Comm: "init", Label: "unconfined"}, ps[0])
	assert.Equal(t, Process{PID: 21, Comm: "web", Label: "web//hat", Mode: "enforce"}, ps[2])
	conf := ConfinedBy(ps, "web")
	require.Len(t, conf, 2, "the profile and its hat, not webby")
	assert.Equal(t, 20, conf[0].PID)
}

func TestNoAppArmor(t *testing.T) {
	k := &FS{Securityfs: t.TempDir()}
	err := k.Available()
	require.ErrorIs(t, err, ErrNoAppArmor)
	assert.Contains(t, err.Error(), "apparmor/profiles")
	_, _, err = k.Mode("web")
	require.ErrorIs(t, err, ErrNoAppArmor)
}
