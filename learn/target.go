package learn

import (
	"fmt"
	"os"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/store"
)

// Target is the profile file learning reads and writes: a managed profile,
// or any file named with --profile-file.
type Target struct {
	Name    string
	Path    string
	Managed bool           // the file is one aa-flow manages (revisions, journal)
	Src     []byte         // the file's text as read
	File    *profiles.File // Src parsed
}

// Dirs is where the profiles are and where aa-flow keeps its state.
type Dirs struct {
	ProfileDir string // --profile-dir
	StateDir   string // --state-dir
}

func (d Dirs) store() *store.Store {
	return &store.Store{ProfileDir: d.ProfileDir, StateDir: d.StateDir}
}

// LoadTarget reads and parses the profile file of name: profileFile when
// given, else the managed profile's file.
func LoadTarget(d Dirs, name, profileFile string) (*Target, error) {
	if err := store.CheckName(name); err != nil {
		return nil, err
	}
	t := &Target{Name: name, Path: profileFile}
	if profileFile == "" {
		p, err := d.store().ProfilePath(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (or learn into a file with --profile-file)", name, err)
		}
		t.Path, t.Managed = p, true
	}
	src, err := os.ReadFile(t.Path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	f, err := parser.Parse(t.Path, src)
	if err != nil {
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	if f.Find(name) == nil {
		return nil, fmt.Errorf("%s has no profile named %q", t.Path, name)
	}
	t.Src, t.File = src, f
	return t, nil
}

// reload reads the target's file again (it may have changed since).
func (t *Target) reload(d Dirs) (*Target, error) {
	file := ""
	if !t.Managed {
		file = t.Path
	}
	return LoadTarget(d, t.Name, file)
}
