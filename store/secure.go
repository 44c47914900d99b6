package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// ErrUnsafe is wrapped by the error for a state directory or file that
// someone other than aa-flow's user could have put there or could change:
// a symlink, a file owned by another user, or one others may write.
var ErrUnsafe = errors.New("unsafe state file")

// Modes of what the store creates: only aa-flow's user (root) reads or
// writes its state.
const (
	dirPerm  = 0o700
	filePerm = 0o600
)

// checkOwned refuses a state directory or file that is a symlink, is not
// owned by root or the process's own user, or that group or others may
// write.
func checkOwned(path string, fi fs.FileInfo) error {
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symlink: %w (state is never read or written through one)", path, ErrUnsafe)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		if euid := uint32(os.Geteuid()); st.Uid != 0 && st.Uid != euid {
			return fmt.Errorf("%s is owned by uid %d, not root: %w (chown root it, or remove it)", path, st.Uid, ErrUnsafe)
		}
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%s is writable by group or others (mode %04o): %w (chmod go-w it)", path, fi.Mode().Perm(), ErrUnsafe)
	}
	return nil
}

// mkdirSafe makes dir (mode 0700) if it is missing and checks it, whether
// made now or found: a real directory, owned by root or the process's
// user, not writable by others.
func mkdirSafe(dir string) error {
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if err := checkOwned(dir, fi); err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: %w", dir, ErrUnsafe)
	}
	return nil
}

// mkdirAllSafe makes and checks root (its parents must exist or are made
// as MkdirAll would) and each directory below it down to dir.
func mkdirAllSafe(root, dir string) error {
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		return err
	}
	rel, err := filepath.Rel(root, dir)
	if err != nil {
		return err
	}
	if err := mkdirSafe(root); err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	cur := root
	for _, part := range strings.Split(filepath.ToSlash(rel), "/") {
		cur = filepath.Join(cur, part)
		if err := mkdirSafe(cur); err != nil {
			return err
		}
	}
	return nil
}

// openSafe opens a state file without following a symlink and checks who
// owns it.
func openSafe(path string, flag int, perm os.FileMode) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symlink: %w (state is never read or written through one)", path, ErrUnsafe)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkOwned(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// readSafe is os.ReadFile through openSafe.
func readSafe(path string) ([]byte, error) {
	f, err := openSafe(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
