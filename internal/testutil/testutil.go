// Package testutil holds helpers shared by aa-flow's tests.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// RepoRoot returns the module root (the directory holding go.mod), found by
// walking up from the test's working directory.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Shared returns the path of a file or folder in the project's shared
// material (../shared beside the checkout, or $AAFLOW_SHARED). The test fails,
// never skips, when it is missing: the conformance suites are part of the
// test contract.
func Shared(t testing.TB, elem ...string) string {
	t.Helper()
	base := os.Getenv("AAFLOW_SHARED")
	if base == "" {
		base = filepath.Join(RepoRoot(t), "..", "shared")
	}
	p := filepath.Join(append([]string{base}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test material missing: %v (clone the project with shared/ beside it, or set AAFLOW_SHARED)", err)
	}
	return p
}
