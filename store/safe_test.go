package store

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSafe(t *testing.T) {
	d := t.TempDir()
	ok := filepath.Join(d, "ok")
	require.NoError(t, os.Mkdir(ok, 0o755))
	assert.NoError(t, CheckSafe(ok))

	open := filepath.Join(d, "open")
	require.NoError(t, os.Mkdir(open, 0o755))
	require.NoError(t, os.Chmod(open, 0o777))
	assert.ErrorIs(t, CheckSafe(open), ErrUnsafe)
	assert.ErrorContains(t, CheckSafe(open), "chmod go-w")

	link := filepath.Join(d, "link")
	require.NoError(t, os.Symlink(ok, link))
	assert.ErrorIs(t, CheckSafe(link), ErrUnsafe)

	file := filepath.Join(d, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	assert.ErrorIs(t, CheckSafe(file), ErrUnsafe)

	assert.ErrorIs(t, CheckSafe(filepath.Join(d, "missing")), fs.ErrNotExist)
}
