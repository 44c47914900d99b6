package testutil

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// update is the one -update flag of every test binary that uses testutil.
var update = flag.Bool("update", false, "rewrite golden files and caches under testdata/")

// Update reports whether -update was given: rewrite golden files and
// caches instead of comparing with them.
func Update() bool { return *update }

// Golden compares got with the golden file at path; with -update it writes
// got there first (creating its directory).
func Golden(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "golden file missing: run the test with -update to create it")
	assert.Equal(t, string(want), string(got), "differs from %s (-update rewrites it)", path)
}
