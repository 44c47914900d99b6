package store

import (
	"fmt"
	"os"
)

// CheckSafe reports whether the directory at path is one aa-flow may
// trust, by the rule the store applies to its own state: a real directory
// (not a symlink), owned by root or the process's user, that group and
// others cannot write. The error wraps ErrUnsafe and says how to fix it.
func CheckSafe(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if err := checkOwned(path, fi); err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory: %w", path, ErrUnsafe)
	}
	return nil
}
