package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The profile directory's marker folders, as AppArmor's tools use them: a
// symlink in disable/ keeps a profile from loading at boot, one in
// force-complain/ loads it in complain mode whatever its flags say.
const (
	DisableDir       = "disable"
	ForceComplainDir = "force-complain"
)

func (s *Store) linkPath(dir, name string) (link, target string, err error) {
	target, err = s.ProfilePath(name)
	if err != nil {
		return "", "", err
	}
	return filepath.Join(s.PolicyRoot(target), dir, filepath.Base(target)), target, nil
}

// PolicyRoot is the AppArmor profile directory a profile file belongs to,
// the one whose disable/ and force-complain/ AppArmor's tools (and the
// boot loader of subdirectories aa-flow ships) consult for it: the nearest
// directory at or above the file's own that has tunables/ (so a profile in
// /etc/apparmor.d/containers/ belongs to /etc/apparmor.d, whatever
// --profile-dir said), else ProfileDir.
func (s *Store) PolicyRoot(profileFile string) string {
	for d := filepath.Dir(profileFile); ; d = filepath.Dir(d) {
		if fi, err := os.Stat(filepath.Join(d, "tunables")); err == nil && fi.IsDir() {
			return d
		}
		if parent := filepath.Dir(d); parent == d {
			return s.ProfileDir
		}
	}
}

// LinkPath returns the path of the marker link for name in dir (DisableDir or
// ForceComplainDir), whether or not it exists.
func (s *Store) LinkPath(dir, name string) (string, error) {
	l, _, err := s.linkPath(dir, name)
	return l, err
}

// HasLink reports whether the marker link for name exists in dir.
func (s *Store) HasLink(dir, name string) (bool, error) {
	l, _, err := s.linkPath(dir, name)
	if err != nil {
		return false, err
	}
	if _, err := os.Lstat(l); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, fmt.Errorf("check %s: %w", l, err)
	}
	return true, nil
}

// SetLink creates (on) or removes (off) the marker link for name in dir. The
// link points at the profile file, as aa-disable and aa-complain make it. It
// is idempotent.
func (s *Store) SetLink(dir, name string, on bool) error {
	l, target, err := s.linkPath(dir, name)
	if err != nil {
		return err
	}
	if !on {
		if err := os.Remove(l); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", l, err)
		}
		return syncDir(filepath.Dir(l))
	}
	if err := os.MkdirAll(filepath.Dir(l), 0o755); err != nil {
		return fmt.Errorf("link %s: %w", l, err)
	}
	// Create beside and rename over, so an existing wrong link is replaced
	// atomically.
	tmp := l + ".aa-flow-tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(target, tmp); err != nil {
		return fmt.Errorf("link %s: %w", l, err)
	}
	if err := os.Rename(tmp, l); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("link %s: %w", l, err)
	}
	return syncDir(filepath.Dir(l))
}

// BootUnitDir is where systemd keeps the units enabled for sysinit.target,
// which aa-flow-profiles@.service is installed into.
const BootUnitDir = "/etc/systemd/system/sysinit.target.wants"

// BootSubdir is the subdirectory of its policy root a profile file is in
// ("containers" for /etc/apparmor.d/containers/x), "" for a file at the top,
// and whether aa-flow-profiles@SUBDIR.service is enabled to load it at boot
// (a top-level file is always loaded by apparmor.service).
func (s *Store) BootSubdir(profileFile string) (sub string, enabled bool) {
	rel, err := filepath.Rel(s.PolicyRoot(profileFile), filepath.Dir(profileFile))
	if err != nil || rel == "." || strings.HasPrefix(rel, "..") {
		return "", true
	}
	_, err = os.Lstat(filepath.Join(BootUnitDir, "aa-flow-profiles@"+systemdEscapePath(rel)+".service"))
	return rel, err == nil
}

// systemdEscapePath is systemd-escape --path for the plain names profile
// subdirectories have: '/' becomes '-', and '-' and other bytes outside
// [A-Za-z0-9:_.] become \xNN.
func systemdEscapePath(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '/':
			b.WriteByte('-')
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || (c == '.' && i > 0):
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\x%02x`, c)
		}
	}
	return b.String()
}
