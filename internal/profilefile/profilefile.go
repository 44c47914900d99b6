// Package profilefile finds the file that holds a profile, given the
// profile's name and AppArmor's profile directory.
//
// A name is looked up in this order: the file aa-flow manages it in (the
// store's record), the file init would give it (the name, slashes as dots),
// then the one file in the directory that declares a profile of that name.
// Files in the directory that do not parse are skipped: the lookup only
// searches for a declaration and leaves reporting them to whoever reads the
// file it returns.
package profilefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/store"
)

// ErrNotFound is returned when no file declares the profile.
var ErrNotFound = errors.New("no such profile")

// AmbiguousError is returned when several files declare the profile.
type AmbiguousError struct {
	Name  string
	Files []string
}

func (e *AmbiguousError) Error() string {
	return fmt.Sprintf("profile %s is declared in several files: %s", e.Name, strings.Join(e.Files, ", "))
}

// Find returns the file holding profile name in st.ProfileDir.
func Find(st *store.Store, name string) (string, error) {
	if p, err := st.ProfilePath(name); err == nil {
		return p, nil
	} else if !errors.Is(err, store.ErrNotManaged) {
		return "", err
	}
	if p, err := st.DefaultProfilePath(name); err == nil && isFile(p) {
		return p, nil
	}
	entries, err := os.ReadDir(st.ProfileDir)
	if err != nil {
		return "", fmt.Errorf("profile %s: cannot read the profile directory: %w", name, err)
	}
	var found []string
	for _, e := range entries {
		if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		if p := filepath.Join(st.ProfileDir, e.Name()); declares(p, name) {
			found = append(found, p)
		}
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: %s (no file in %s declares it)", ErrNotFound, name, st.ProfileDir)
	case 1:
		return found[0], nil
	}
	return "", &AmbiguousError{Name: name, Files: found}
}

// declares reports whether the file at p parses and declares profile name.
func declares(p, name string) bool {
	f, err := parser.ParseFile(p)
	return err == nil && f.Find(name) != nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
