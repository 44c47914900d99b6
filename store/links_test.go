package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A profile file belongs to the nearest directory above it with tunables/;
// one in a subdirectory names that subdirectory for the boot unit.
func TestPolicyRootAndBootSubdir(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "tunables"), 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "containers", "team-a"), 0o755))
	s := &Store{ProfileDir: filepath.Join(root, "containers")}
	assert.Equal(t, root, s.PolicyRoot(filepath.Join(root, "containers", "ctr")))
	assert.Equal(t, root, s.PolicyRoot(filepath.Join(root, "web")))
	other := t.TempDir()
	assert.Equal(t, s.ProfileDir, s.PolicyRoot(filepath.Join(other, "x")), "no tunables/ above: the profile directory")

	sub, enabled := s.BootSubdir(filepath.Join(root, "web"))
	assert.Equal(t, "", sub)
	assert.True(t, enabled, "apparmor.service loads the top directory")
	sub, _ = s.BootSubdir(filepath.Join(root, "containers", "ctr"))
	assert.Equal(t, "containers", sub)
	assert.Equal(t, `containers-team\x2da`, systemdEscapePath("containers/team-a"))
}
