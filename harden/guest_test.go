package harden

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
)

// guestHost is the Debian 13 guest as check saw it: ctr-chk loaded in
// enforce mode, and the engine's docker info (info names the capture).
func guestHost(t *testing.T, info string) Host {
	b := read(t, info)
	h := kernelWith(map[string]string{"ctr-chk": "enforce"})
	h.UsernsRemap = func() (bool, bool) {
		on, known, err := UsernsFromInfo(b)
		require.NoError(t, err)
		return on, known
	}
	return h
}

// The docker-check scenario's hardened container, as docker inspect
// printed it in the Debian 13 guest (Docker 26.1.5, userns-remap on):
// every item passes.
func TestGuestHardenedInspect(t *testing.T) {
	cs, err := FromInspect(read(t, "debian-13-inspect-hardened.json"))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	s := cs[0]
	assert.Equal(t, "chk", s.Name)
	assert.Equal(t, "ctr-chk", s.AppArmor)
	assert.True(t, s.AppArmorNamed)
	assert.Equal(t, SeccompCustom, s.Seccomp)
	assert.True(t, s.NoNewPrivileges)
	assert.Equal(t, []string{"NET_BIND_SERVICE"}, s.CapAdd)
	assert.Equal(t, []string{"ALL"}, s.CapDrop)
	assert.True(t, s.ReadonlyRootfs)
	assert.Equal(t, "1000:1000", s.User)
	assert.Equal(t, int64(50), s.PidsLimit)
	assert.Equal(t, int64(64<<20), s.Memory)
	assert.Empty(t, s.Mounts, "--tmpfs is not among docker inspect's Mounts")
	assert.NotZero(t, s.PID)

	r := Check(s, guestHost(t, "debian-13-docker-info-userns.json"))
	assert.True(t, r.OK)
	for _, it := range r.Items {
		assert.Equal(t, Pass, it.Status, "%s: %s", it.ID, it.Detail)
	}
	seccompItem := r.Items[1]
	assert.Equal(t, "a custom profile allowing 47 syscalls", seccompItem.Detail, "the profile docker inlined, read back")
}

// The weak container: --privileged, apparmor=unconfined, seccomp=unconfined
// and the Docker socket, on the engine without userns-remap.
func TestGuestWeakInspect(t *testing.T) {
	cs, err := FromInspect(read(t, "debian-13-inspect-weak.json"))
	require.NoError(t, err)
	require.Len(t, cs, 1)
	r := Check(cs[0], guestHost(t, "debian-13-docker-info.json"))
	assert.False(t, r.OK)
	assert.Equal(t, map[string]Status{
		"apparmor": Fail, "seccomp": Fail, "privileged": Fail, "no-new-privileges": Fail,
		"cap-drop": Fail, "read-only": Fail, "user": Fail, "pids-limit": Fail, "memory": Fail,
		"docker-socket": Fail, "userns": Warn,
	}, statuses(r))

	var b bytes.Buffer
	require.NoError(t, WriteText(&b, []Report{r}))
	testutil.Golden(t, filepath.Join("testdata", "golden", "debian-13-weak.txt"), b.Bytes())
}
