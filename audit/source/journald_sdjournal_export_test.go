//go:build sdjournal && cgo

package source

import (
	"errors"
	"fmt"

	"github.com/coreos/go-systemd/v22/sdjournal"
)

// Hooks for journald_sdjournal_test.go (package source_test).

// JournalNoLibsystemd is the sd-journal source as it runs on a host where
// libsystemd cannot be loaded (the error is go-systemd's when dlopen finds
// no library).
func JournalNoLibsystemd(opt Options) Source {
	s := newSDJournalSource(opt)
	s.open = func() (*sdjournal.Journal, error) {
		return nil, errors.New("unable to open a handle to the library")
	}
	return s
}

// JournalType is the Go type of the source Journal returns.
func JournalType(opt Options) string {
	return fmt.Sprintf("%T", Journal(opt))
}
