package store

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// staleTemp is how old a leftover temporary file must be before a later
// write removes it: far longer than any write takes, so a concurrent
// writer's file is never touched.
const staleTemp = 15 * time.Minute

// WriteFileAtomic replaces path with data so that a crash or a kill at any
// moment leaves either the old file or the new one, never a partial file: the
// data goes to a temporary file in the same directory, is synced, renamed
// over path, and the directory is synced so the rename itself is durable.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return writeFileAtomic(path, data, perm, nil)
}

// WriteFileAtomicSteps is WriteFileAtomic calling step after each of its
// steps ("create", "write", "fsync", "rename", "fsync-dir"), so that crash
// tests can kill the process between any two of them. step may be nil.
func WriteFileAtomicSteps(path string, data []byte, perm os.FileMode, step func(string)) error {
	return writeFileAtomic(path, data, perm, step)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode, step func(string)) error {
	if step == nil {
		step = func(string) {}
	}
	dir := filepath.Dir(path)
	removeStaleTemps(dir, filepath.Base(path), time.Now())
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmpName := tmp.Name()
	committed := false
	defer func() {
		if !committed {
			_ = tmp.Close()
			_ = os.Remove(tmpName)
		}
	}()
	step("create")
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	step("write")
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: chmod: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: fsync: %w", tmpName, err)
	}
	step("fsync")
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: close: %w", tmpName, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write %s: rename: %w", path, err)
	}
	committed = true
	step("rename")
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	step("fsync-dir")
	return nil
}

// Rename moves oldpath to newpath (in one directory or on one filesystem)
// and makes the move durable: the directory holding newpath, and oldpath's
// when it is another, are synced, so a crash after Rename returns cannot
// bring the old name back.
func Rename(oldpath, newpath string) error {
	if err := os.Rename(oldpath, newpath); err != nil {
		return err
	}
	if err := syncDir(filepath.Dir(newpath)); err != nil {
		return err
	}
	if od := filepath.Dir(oldpath); od != filepath.Dir(newpath) {
		return syncDir(od)
	}
	return nil
}

// syncDir makes a rename or a new directory entry in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync dir %s: %w", dir, err)
	}
	return nil
}

// removeStaleTemps deletes the temporary files an earlier write of base left
// in dir when it was killed before its rename (".BASE.tmp-*" older than
// staleTemp). AppArmor ignores dotfiles, so they do no harm, but they should
// not pile up. Failures are ignored: this is housekeeping.
func removeStaleTemps(dir, base string, now time.Time) {
	matches, err := filepath.Glob(filepath.Join(dir, "."+escapeGlob(base)+".tmp-*"))
	if err != nil {
		return
	}
	for _, m := range matches {
		if fi, err := os.Lstat(m); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > staleTemp {
			_ = os.Remove(m)
		}
	}
}

// escapeGlob escapes filepath.Match's special characters in a file name.
func escapeGlob(s string) string {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\':
			out = append(out, '\\')
		}
		out = append(out, s[i])
	}
	return string(out)
}
