package parser

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// debianPolicyFiles lists every policy file Debian's AppArmor packages
// install: profiles, abstractions, tunables and local/ includes under
// /etc/apparmor.d, and the extra profiles. The abi/ feature files are not
// policy, disable/ and force-complain/ hold links to profiles, and the
// README files are prose.
func debianPolicyFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	for _, root := range []string{"/etc/apparmor.d", "/usr/share/apparmor/extra-profiles"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			if d.IsDir() {
				if root == "/etc/apparmor.d" && (rel == "abi" || rel == "disable" || rel == "force-complain" || rel == "cache") {
					return filepath.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".") || d.Name() == "README" {
				return nil
			}
			files = append(files, path)
			return nil
		})
		require.NoError(t, err, "walk %s (install apparmor, apparmor-profiles, apparmor-profiles-extra: make deps)", root)
	}
	require.Greater(t, len(files), 200, "Debian's AppArmor profiles are not installed (make deps)")
	return files
}

func TestParseDebianProfiles(t *testing.T) {
	for _, path := range debianPolicyFiles(t) {
		t.Run(path, func(t *testing.T) {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			f, err := Parse(path, src)
			require.NoError(t, err)
			require.NotNil(t, f)
			if len(strings.TrimSpace(string(src))) > 0 {
				require.NotEmpty(t, f.Items)
			}
		})
	}
}

// BenchmarkParseDebian parses every Debian policy file once per iteration.
func BenchmarkParseDebian(b *testing.B) {
	var srcs [][]byte
	size := 0
	for _, path := range debianPolicyFiles(b) {
		src, err := os.ReadFile(path)
		require.NoError(b, err)
		srcs = append(srcs, src)
		size += len(src)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			if _, err := Parse("bench", src); err != nil {
				b.Fatal(err)
			}
		}
	}
}
