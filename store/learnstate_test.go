package store

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLearnerStateResolve(t *testing.T) {
	s := &Store{StateDir: filepath.Join(t.TempDir(), "state")}
	_, _, err := s.Proposal("web")
	require.ErrorIs(t, err, ErrNoProposal)
	require.NoError(t, s.SaveProposal("web", []byte(`{"profile":"web"}`)))
	require.NoError(t, s.SavePendingCursor("web", map[string]int{"offset": 7}))
	var c map[string]int
	ok, err := s.Cursor("web", &c)
	require.NoError(t, err)
	assert.False(t, ok, "a pending cursor is not the cursor until the proposal is resolved")
	b, _, err := s.Proposal("web")
	require.NoError(t, err)
	assert.JSONEq(t, `{"profile":"web"}`, string(b))
	require.NoError(t, s.ResolveProposal("web"))
	ok, err = s.Cursor("web", &c)
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 7, c["offset"])
	_, _, err = s.Proposal("web")
	require.ErrorIs(t, err, ErrNoProposal)
}
