package rollout

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/store"
)

// A file no profile's state records (learn --profile-file) goes through the
// same writer: its mode is kept, and a failed load puts the old text back.
func TestWriteUnmanagedKeepsModeAndRestores(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	path := filepath.Join(e.host.Store.ProfileDir, "other")
	v1 := profileText("complain")
	require.NoError(t, os.WriteFile(path, v1, 0o600))

	v2 := profileText("complain", "/etc/x r,")
	_, err := e.host.Write(ctx, Write{Name: "web", Path: path, Src: v2, Base: v1})
	require.NoError(t, err)
	got, _ := os.ReadFile(path)
	assert.Equal(t, v2, got)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), "the file's mode is kept, not 0644")

	e.kern.FailLoad = "apparmor_parser: Unable to replace \"web\"."
	_, err = e.host.Write(ctx, Write{Name: "web", Path: path, Src: profileText("complain", "/etc/y r,"), Base: v2, Load: true})
	require.Error(t, err)
	got, _ = os.ReadFile(path)
	assert.Equal(t, v2, got, "the previous text is written back after a failed load")
	assert.Contains(t, err.Error(), "reloading it failed too", "the restore's own failure is reported, not dropped")
	revs, _ := e.host.Store.Revisions("web")
	assert.Empty(t, revs, "an unmanaged write stores no revision")
}

// A change computed from text the file no longer holds is refused.
func TestWriteRefusesChangedBase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := profileText("complain")
	_, err := e.host.Install(ctx, "web", v1, "init", false)
	require.NoError(t, err)
	_, err = e.host.Write(ctx, Write{Name: "web", Managed: true, Src: profileText("complain", "/x r,"), Base: []byte("something else")})
	require.ErrorIs(t, err, ErrChanged)
	got, _ := os.ReadFile(e.path)
	assert.Equal(t, v1, got)
}

// A dry run prints the plan's steps in the words of the plan (no "would
// wrote"), with no revision number guessed.
func TestWriteDryRunPrintsPlan(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.host.DryRun = true
	_, err := e.host.Write(ctx, Write{Name: "web", Managed: true, Src: profileText("complain"), Revision: store.Revision{Reason: "init"}, Load: true})
	require.NoError(t, err)
	out := e.log.String()
	assert.Contains(t, out, "dry-run: would store the new text of web as a revision (complain, init)")
	assert.Contains(t, out, "dry-run: would write "+e.path+" (")
	assert.Contains(t, out, "dry-run: would check that the kernel reports web in complain mode")
	assert.NotContains(t, out, "would wrote")
	assert.NotContains(t, out, "would loaded")
}
