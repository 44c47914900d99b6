package parser

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// DefaultIncludeDir is where apparmor_parser looks for include <...> when
// no -I directory is given.
const DefaultIncludeDir = "/etc/apparmor.d"

// Resolver follows includes the way apparmor_parser does:
//   - include <x> is searched in Dirs, in order (DefaultIncludeDir when
//     Dirs is empty);
//   - include "x" is relative to the including file's directory, then
//     searched in Dirs; an absolute path is taken as it is;
//   - include if exists tolerates a missing file;
//   - an include naming a directory means every regular file in it, by
//     name, skipping dotfiles and the package managers' leftovers
//     (*.dpkg-new, *.rpmsave, *~ ...), as the parser does;
//   - a cycle is an error.
//
// Each file is parsed once per Resolver. A Resolver is not safe for
// concurrent use.
type Resolver struct {
	Dirs []string

	cache map[string]*profiles.File // parsed files, by path
	done  map[string]bool           // files whose includes were all followed
}

// ignoredSuffixes are the file name endings apparmor_parser skips in a
// directory include.
var ignoredSuffixes = []string{
	".dpkg-new", ".dpkg-old", ".dpkg-dist", ".dpkg-bak", ".dpkg-remove",
	".pacsave", ".pacnew", ".rpmnew", ".rpmsave", ".orig", ".rej", "~",
}

// Ignored reports whether apparmor_parser skips a file of this name when it
// includes the directory holding it.
func Ignored(name string) bool {
	if strings.HasPrefix(name, ".") {
		return true
	}
	for _, s := range ignoredSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

func (r *Resolver) dirs() []string {
	if len(r.Dirs) == 0 {
		return []string{DefaultIncludeDir}
	}
	return r.Dirs
}

// Load returns the files an include in the file from names, parsed: one
// file, or every file of a directory. It also follows their own includes,
// so that a missing include or a cycle anywhere below is reported. An
// `include if exists` whose target is missing gives no files and no
// error; a missing include otherwise is an error wrapping fs.ErrNotExist.
func (r *Resolver) Load(inc *profiles.Include, from string) ([]*profiles.File, error) {
	return r.load(inc, from, []string{filepath.Clean(from)})
}

// All returns every file f includes, directly or not, each once, in the
// order apparmor_parser reads them (depth first).
func (r *Resolver) All(f *profiles.File) ([]*profiles.File, error) {
	var out []*profiles.File
	seen := map[string]bool{filepath.Clean(f.Path): true}
	var walk func(f *profiles.File) error
	walk = func(f *profiles.File) error {
		for _, inc := range Includes(f.Items) {
			files, err := r.Load(inc, f.Path)
			if err != nil {
				return err
			}
			for _, g := range files {
				if seen[g.Path] {
					continue
				}
				seen[g.Path] = true
				out = append(out, g)
				if err := walk(g); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := walk(f); err != nil {
		return nil, err
	}
	return out, nil
}

// Includes returns the includes among nodes and in the bodies of the
// profiles among them, in source order.
func Includes(nodes []profiles.Node) []*profiles.Include {
	var out []*profiles.Include
	for _, n := range nodes {
		switch n := n.(type) {
		case *profiles.Include:
			out = append(out, n)
		case *profiles.Profile:
			out = append(out, Includes(n.Rules)...)
		}
	}
	return out
}

func (r *Resolver) load(inc *profiles.Include, from string, stack []string) ([]*profiles.File, error) {
	target := r.find(inc, from)
	if target == "" {
		if inc.IfExists {
			return nil, nil
		}
		return nil, fmt.Errorf("%s: include %s: %w (searched %s)", inc.Pos, includeText(inc), fs.ErrNotExist, r.searched(inc, from))
	}
	paths := []string{target}
	if st, err := os.Stat(target); err == nil && st.IsDir() {
		entries, err := os.ReadDir(target)
		if err != nil {
			return nil, fmt.Errorf("%s: include %s: %w", inc.Pos, includeText(inc), err)
		}
		paths = paths[:0]
		for _, e := range entries { // ReadDir sorts by name
			if Ignored(e.Name()) {
				continue
			}
			p := filepath.Join(target, e.Name())
			if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
				continue
			}
			paths = append(paths, p)
		}
	}
	var out []*profiles.File
	for _, p := range paths {
		for i, s := range stack {
			if s == p {
				chain := append(append([]string{}, stack[i:]...), p)
				return nil, fmt.Errorf("%s: include cycle: %s", inc.Pos, strings.Join(chain, " -> "))
			}
		}
		f, err := r.parse(p)
		if err != nil {
			return nil, fmt.Errorf("%s: include %s: %w", inc.Pos, includeText(inc), err)
		}
		if !r.done[p] {
			for _, child := range Includes(f.Items) {
				if _, err := r.load(child, p, append(stack, p)); err != nil {
					return nil, err
				}
			}
			r.done[p] = true
		}
		out = append(out, f)
	}
	return out, nil
}

// parse parses a file once.
func (r *Resolver) parse(path string) (*profiles.File, error) {
	if r.cache == nil {
		r.cache = map[string]*profiles.File{}
		r.done = map[string]bool{}
	}
	if f, ok := r.cache[path]; ok {
		return f, nil
	}
	f, err := ParseFile(path)
	if err != nil {
		return nil, err
	}
	r.cache[path] = f
	return f, nil
}

// candidates are the paths an include may name, in search order.
func (r *Resolver) candidates(inc *profiles.Include, from string) []string {
	if filepath.IsAbs(inc.Path) {
		return []string{filepath.Clean(inc.Path)}
	}
	var out []string
	if !inc.Angle && from != "" {
		out = append(out, filepath.Join(filepath.Dir(from), inc.Path))
	}
	for _, d := range r.dirs() {
		out = append(out, filepath.Join(d, inc.Path))
	}
	return out
}

// find returns the first candidate that exists, or "".
func (r *Resolver) find(inc *profiles.Include, from string) string {
	for _, c := range r.candidates(inc, from) {
		if _, err := os.Stat(c); err == nil {
			return c
		} else if !errors.Is(err, fs.ErrNotExist) {
			return c // exists but unreadable: let the read report why
		}
	}
	return ""
}

func (r *Resolver) searched(inc *profiles.Include, from string) string {
	return strings.Join(r.candidates(inc, from), ", ")
}

// includeText writes an include's target as it was written.
func includeText(inc *profiles.Include) string {
	if inc.Angle {
		return "<" + inc.Path + ">"
	}
	return `"` + inc.Path + `"`
}

// ForProfileDir is the include resolver every command uses: include <x> is
// searched in profileDir, then in /etc/apparmor.d (apparmor_parser's
// default), "x" relative to the including file first.
func ForProfileDir(profileDir string) *Resolver {
	dirs := []string{profileDir}
	if profileDir == "" {
		dirs = nil
	} else if filepath.Clean(profileDir) != DefaultIncludeDir {
		dirs = append(dirs, DefaultIncludeDir)
	}
	return &Resolver{Dirs: dirs}
}
