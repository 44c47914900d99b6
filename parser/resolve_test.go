package parser

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	}
}

func paths(files []*profiles.File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Path)
	}
	return out
}

func TestResolver(t *testing.T) {
	dir := t.TempDir()
	search := filepath.Join(dir, "etc")
	writeFiles(t, dir, map[string]string{
		"etc/tunables/global":            "include <tunables/home>\n",
		"etc/tunables/home":              "@{HOME}=/home/*/\ninclude if exists <tunables/home.d>\n",
		"etc/tunables/home.d/site":       "@{HOME}+=/srv/home/*/\n",
		"etc/tunables/home.d/.hidden":    "not policy\n",
		"etc/tunables/home.d/site~":      "not policy\n",
		"etc/tunables/home.d/x.dpkg-new": "not policy\n",
		"etc/tunables/home.d/x.rpmsave":  "not policy\n",
		"etc/abstractions/a":             "include <abstractions/b>\n/a r,\n",
		"etc/abstractions/b":             "/b r,\n",
		"etc/cycle/one":                  "include <cycle/two>\n",
		"etc/cycle/two":                  "include <cycle/one>\n",
		"etc/broken":                     "include <nowhere>\n",
		"profiles/local/extra":           "/extra r,\n",
	})
	from := filepath.Join(dir, "profiles", "p")
	tests := []struct {
		name    string
		inc     profiles.Include
		want    []string
		wantErr string
	}{
		{"angle in search dir", profiles.Include{Path: "abstractions/a", Angle: true}, []string{"etc/abstractions/a"}, ""},
		{"quoted relative to the including file", profiles.Include{Path: "local/extra"}, []string{"profiles/local/extra"}, ""},
		{"quoted falls back to search dirs", profiles.Include{Path: "abstractions/b"}, []string{"etc/abstractions/b"}, ""},
		{"absolute", profiles.Include{Path: filepath.Join(dir, "etc/abstractions/b")}, []string{"etc/abstractions/b"}, ""},
		{"directory skips dotfiles and leftovers", profiles.Include{Path: "tunables/home.d", Angle: true}, []string{"etc/tunables/home.d/site"}, ""},
		{"nested includes followed", profiles.Include{Path: "tunables/global", Angle: true}, []string{"etc/tunables/global"}, ""},
		{"if exists, missing", profiles.Include{Path: "local/none", Angle: true, IfExists: true}, nil, ""},
		{"missing", profiles.Include{Path: "local/none", Angle: true}, nil, "include <local/none>: file does not exist"},
		{"angle is not relative to the file", profiles.Include{Path: "local/extra", Angle: true}, nil, "file does not exist"},
		{"missing below", profiles.Include{Path: "broken", Angle: true}, nil, "include <nowhere>: file does not exist"},
		{"cycle", profiles.Include{Path: "cycle/one", Angle: true}, nil, "include cycle: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Resolver{Dirs: []string{search}}
			inc := tt.inc
			files, err := r.Load(&inc, from)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				if tt.name != "cycle" {
					assert.True(t, errors.Is(err, fs.ErrNotExist))
				}
				return
			}
			require.NoError(t, err)
			var want []string
			for _, w := range tt.want {
				want = append(want, filepath.Join(dir, w))
			}
			assert.Equal(t, want, paths(files))
		})
	}

	t.Run("each file parsed once", func(t *testing.T) {
		r := &Resolver{Dirs: []string{search}}
		a1, err := r.Load(&profiles.Include{Path: "abstractions/b", Angle: true}, from)
		require.NoError(t, err)
		a2, err := r.Load(&profiles.Include{Path: "abstractions/b"}, from)
		require.NoError(t, err)
		require.Len(t, a1, 1)
		assert.Same(t, a1[0], a2[0])
	})

	t.Run("All", func(t *testing.T) {
		r := &Resolver{Dirs: []string{search}}
		f, err := Parse(from, []byte("include <tunables/global>\ninclude <abstractions/a>\n/p {\n  include <abstractions/b>\n}\n"))
		require.NoError(t, err)
		all, err := r.All(f)
		require.NoError(t, err)
		var rel []string
		for _, p := range paths(all) {
			r, _ := filepath.Rel(search, p)
			rel = append(rel, r)
		}
		assert.Equal(t, []string{"tunables/global", "tunables/home", "tunables/home.d/site", "abstractions/a", "abstractions/b"}, rel)
	})
}

// TestResolverDebian: every include of every installed Debian profile
// resolves in /etc/apparmor.d.
func TestResolverDebian(t *testing.T) {
	r := &Resolver{}
	for _, path := range debianPolicyFiles(t) {
		f, err := ParseFile(path)
		require.NoError(t, err)
		_, err = r.All(f)
		require.NoError(t, err, path)
	}
}

// TestResolverSimpleTests: the suite's directory includes, holding files
// apparmor_parser skips (dotfiles, *.dpkg-new, *~ ...) and one it must not
// (good.dpkg-new.include: only a suffix is ignored).
func TestResolverSimpleTests(t *testing.T) {
	dir := testutil.Corpus(t, "parser-simple_tests")
	r := &Resolver{Dirs: []string{dir}}
	for name, want := range map[string]string{
		"include_tests/ignored_suffix_1.sd": "include_tests/ignored_suffix/good-include",
		"include_tests/ignored_suffix_2.sd": "include_tests/ignored_suffix_2/good.dpkg-new.include",
	} {
		f, err := ParseFile(filepath.Join(dir, name))
		require.NoError(t, err)
		files, err := r.All(f)
		require.NoError(t, err, name)
		assert.Equal(t, []string{filepath.Join(dir, want)}, paths(files), name)
	}
}

func TestForProfileDir(t *testing.T) {
	assert.Equal(t, []string{"/x", "/etc/apparmor.d"}, ForProfileDir("/x").Dirs)
	assert.Equal(t, []string{"/etc/apparmor.d"}, ForProfileDir("/etc/apparmor.d").Dirs)
	assert.Empty(t, ForProfileDir("").Dirs)
}
