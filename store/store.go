// Package store keeps aa-flow's state on the host: the profile files it
// manages in the AppArmor profile directory and, per profile, a state
// directory holding every revision it wrote, the stage journal, learner state
// (proposal, cursor) and a lock so that one aa-flow process works on a
// profile at a time. Every file it writes is written atomically.
//
// Layout of StateDir/NAME/ (NAME escaped by DirName):
//
//	meta.json               which profile file the profile lives in
//	lock                    flock(2) lock; holds the holder's pid
//	revisions/NNNN.profile  every version aa-flow wrote (or found)
//	revisions/NNNN.json     who/when/why/mode/sha256 of that version
//	journal.jsonl           stage transitions with timestamps and evidence
//	proposal.json           the learner's pending proposal
//	cursor, cursor.pending  where learning's reading stopped (resolved, pending)
//
// Directories are made 0700 and files 0600; a state directory or file that
// is a symlink, is owned by another user than root (or the process's own),
// or that others may write is refused (ErrUnsafe), and state files are
// opened with O_NOFOLLOW.
//
// The store knows nothing of rule semantics or the kernel.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// ErrNotManaged is returned for a profile aa-flow has no state for (never
// initialised or adopted).
var ErrNotManaged = errors.New("profile is not managed by aa-flow (run aa-flow init NAME, or aa-flow init NAME --adopt)")

// Store is the profile directory plus aa-flow's state directory.
//
// The zero value of the unexported fields is ready to use; a Store must not
// be copied after first use.
type Store struct {
	ProfileDir string // AppArmor's profile directory, /etc/apparmor.d
	StateDir   string // aa-flow's state directory, /var/lib/aa-flow
	// LockTimeout is how long Lock waits for another process; 10s when 0.
	LockTimeout time.Duration

	mu   sync.Mutex
	held map[string]*heldLock
}

// Meta is what aa-flow records about a managed profile.
type Meta struct {
	Name    string    `json:"name"`
	Profile string    `json:"profile_path"` // the profile file, absolute
	Created time.Time `json:"created"`
	Adopted bool      `json:"adopted,omitempty"` // the file existed before aa-flow
	Exec    string    `json:"exec,omitempty"`    // the binary given to init
}

// ErrBadName is wrapped by CheckName's error for a profile name aa-flow
// does not manage.
var ErrBadName = errors.New("invalid profile name")

// reservedNames are the names of the profile directory's own folders and
// of what AppArmor treats specially: a profile by one of these names (or a
// path-named one below it) would clash with them.
var reservedNames = []string{"abstractions", "tunables", "local", "disable", "force-complain", "cache", "unconfined"}

// CheckName refuses profile names aa-flow cannot manage, the one check of
// every NAME a command takes: empty; with control characters; naming a
// child profile or hat (parent//child), which is managed through its
// parent; starting with "."; one of the profile directory's own folders or
// special names (abstractions, tunables, local, disable, force-complain,
// cache, unconfined) or a name below one (local/x); with ".." as a path
// element, which escapes the profile tree; or with "&" or ":", which
// AppArmor reads as a stack or a policy namespace. The error wraps
// ErrBadName.
func CheckName(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("profile name %q %s: %w", name, why, ErrBadName)
	}
	switch {
	case name == "":
		return fmt.Errorf("empty profile name: %w", ErrBadName)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return bad("has control characters")
	case strings.Contains(name, "//"):
		return bad("names a child profile or hat; manage its parent instead")
	case strings.HasPrefix(name, "."):
		return bad("starts with '.' (AppArmor skips such files)")
	case strings.ContainsAny(name, "&:"):
		return bad("has '&' or ':', which AppArmor reads as a stack or a policy namespace")
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return bad("has a '..' element, which escapes the profile directory")
		}
	}
	first := strings.SplitN(strings.TrimPrefix(name, "/"), "/", 2)[0]
	for _, r := range reservedNames {
		if name == r || (first == r && !strings.HasPrefix(name, "/")) {
			return bad(fmt.Sprintf("is (or is below) %q, which AppArmor's profile directory reserves; choose another name", r))
		}
	}
	return nil
}

// DirName is the name of a profile's state directory: the profile name with
// every byte outside [A-Za-z0-9._+-] (and a leading '.') written as %XX, so
// that distinct names never share a directory and none escapes StateDir.
func DirName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		safe := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '_' || c == '+' || c == '-' || (c == '.' && i > 0)
		if safe {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// Dir returns the state directory of a profile.
func (s *Store) Dir(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	if s.StateDir == "" {
		return "", errors.New("no state directory configured")
	}
	d := filepath.Join(s.StateDir, DirName(name))
	// What exists of the way there must be safe to read from and write to.
	for _, p := range []string{s.StateDir, d} {
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			break
		}
		if err != nil {
			return "", fmt.Errorf("state for %s: %w", name, err)
		}
		if err := checkOwned(p, fi); err != nil {
			return "", err
		}
	}
	return d, nil
}

func (s *Store) ensureDir(name string, sub ...string) (string, error) {
	d, err := s.Dir(name)
	if err != nil {
		return "", err
	}
	d = filepath.Join(append([]string{d}, sub...)...)
	if err := mkdirAllSafe(s.StateDir, d); err != nil {
		return "", fmt.Errorf("state for %s: %w", name, err)
	}
	return d, nil
}

// DefaultProfilePath is where init puts a new profile: ProfileDir/NAME, with
// the slashes of a path-named profile turned into dots as AppArmor's own
// tools do (/usr/sbin/nginx -> usr.sbin.nginx).
func (s *Store) DefaultProfilePath(name string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	base := strings.Trim(name, "/")
	base = strings.ReplaceAll(base, "/", ".")
	if base == "" || base == "." || base == ".." || strings.ContainsAny(base, "\x00") {
		return "", fmt.Errorf("profile name %q cannot be a file name", name)
	}
	return filepath.Join(s.ProfileDir, base), nil
}

// Manage records that name lives in the profile file m.Profile (made
// absolute). It is called by init and adopt.
func (s *Store) Manage(m Meta) error {
	if m.Profile == "" {
		return fmt.Errorf("manage %s: no profile file", m.Name)
	}
	abs, err := filepath.Abs(m.Profile)
	if err != nil {
		return fmt.Errorf("manage %s: %w", m.Name, err)
	}
	m.Profile = abs
	return s.WriteState(m.Name, "meta.json", m)
}

// Meta returns what aa-flow recorded about a managed profile; the error wraps
// ErrNotManaged when there is nothing.
func (s *Store) Meta(name string) (Meta, error) {
	var m Meta
	if err := s.ReadState(name, "meta.json", &m); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return m, fmt.Errorf("%s: %w", name, ErrNotManaged)
		}
		return m, err
	}
	if m.Profile == "" {
		return m, fmt.Errorf("%s: meta.json names no profile file", name)
	}
	return m, nil
}

// Managed reports whether aa-flow manages name.
func (s *Store) Managed(name string) bool {
	_, err := s.Meta(name)
	return err == nil
}

// List returns the names of every managed profile, sorted.
func (s *Store) List() ([]string, error) {
	ents, err := os.ReadDir(s.StateDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list managed profiles: %w", err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		var m Meta
		b, err := readSafe(filepath.Join(s.StateDir, e.Name(), "meta.json"))
		if err != nil || json.Unmarshal(b, &m) != nil || m.Name == "" {
			continue
		}
		out = append(out, m.Name)
	}
	return out, nil
}

// ProfilePath returns the profile file of a managed profile.
func (s *Store) ProfilePath(name string) (string, error) {
	m, err := s.Meta(name)
	if err != nil {
		return "", err
	}
	return m.Profile, nil
}

// checkStateFile keeps state file names inside the profile's directory.
func checkStateFile(file string) error {
	if file == "" || file != filepath.Base(file) || file == "." || file == ".." ||
		file == "lock" || file == "revisions" || file == "journal.jsonl" {
		return fmt.Errorf("invalid state file name %q", file)
	}
	return nil
}

// ReadState decodes the JSON state file StateDir/NAME/file into v. A missing
// file gives an error wrapping fs.ErrNotExist.
func (s *Store) ReadState(name, file string, v any) error {
	if err := checkStateFile(file); err != nil {
		return err
	}
	d, err := s.Dir(name)
	if err != nil {
		return err
	}
	p := filepath.Join(d, file)
	b, err := readSafe(p)
	if err != nil {
		return fmt.Errorf("read state %s: %w", p, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read state %s: %w", p, err)
	}
	return nil
}

// WriteState writes v as JSON to StateDir/NAME/file, atomically.
func (s *Store) WriteState(name, file string, v any) error {
	if err := checkStateFile(file); err != nil {
		return err
	}
	d, err := s.ensureDir(name)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("write state %s/%s: %w", name, file, err)
	}
	return WriteFileAtomic(filepath.Join(d, file), append(b, '\n'), filePerm)
}

// RemoveState deletes a state file; a missing one is not an error.
func (s *Store) RemoveState(name, file string) error {
	if err := checkStateFile(file); err != nil {
		return err
	}
	d, err := s.Dir(name)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d, file)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove state %s/%s: %w", name, file, err)
	}
	return nil
}
