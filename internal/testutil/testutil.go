// Package testutil holds helpers shared by aa-flow's tests.
package testutil

import (
	"bytes"
	"compress/gzip"
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

// Corpus returns the path of a file or folder under testdata/corpus, the
// real data (kernel captures, AppArmor's conformance suites) copied into the
// project with its origin and licence. The test fails, never skips, when it is
// missing: the conformance suites are part of the test contract.
func Corpus(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{RepoRoot(t), "testdata", "corpus"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test corpus missing: %v", err)
	}
	return p
}

// Capture returns the path of a copy of the kernel capture
// testdata/corpus/kernel/NAME without the tag its capture script put before
// each line ("[complain] ", see that folder's README): the kernel's lines
// as dmesg printed them, which is what a log reader takes as the kernel's.
func Capture(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(Corpus(t, "kernel", name))
	if err != nil {
		t.Fatalf("read capture: %v", err)
	}
	var out []byte
	for line := range bytes.Lines(b) {
		if tag, rest, ok := bytes.Cut(line, []byte("] ")); ok && len(tag) > 1 && tag[0] == '[' &&
			len(bytes.Trim(tag[1:], "abcdefghijklmnopqrstuvwxyz")) == 0 {
			line = rest
		}
		out = append(out, line...)
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, out, 0o644); err != nil {
		t.Fatalf("write capture: %v", err)
	}
	return p
}

// WriteFile writes b to path (0644), failing the test on error.
func WriteFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
}

// Gzip returns b gzip-compressed, as a rotated log is.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	if _, err := w.Write(b); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out.Bytes()
}
