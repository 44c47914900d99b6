//go:build sdjournal && cgo

package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coreos/go-systemd/v22/sdjournal"
)

// Hooks for journald_sdjournal_test.go (package audit_test): one journal
// source read on its own, through a reader as Read makes one.

// readSource is Read with src as its only source.
func readSource(ctx context.Context, opt ReadOptions, src source, fn func(*Event) error) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &reader{opt: opt, fn: fn, dec: newReusingDecoder(), after: map[string]time.Time{}}
	if sc := opt.Cursor.Get(src.name()); sc != nil && !sc.Time.IsZero() {
		r.after[src.name()] = sc.Time
	}
	if opt.Follow {
		r.startIdleFlush(ctx)
	}
	return r.finish(&Result{Sources: []string{src.name()}}, []source{src}, src.run(ctx, r))
}

// ReadJournalctl reads opt's journal through journalctl, as the default
// build does.
func ReadJournalctl(ctx context.Context, opt ReadOptions, fn func(*Event) error) (*Result, error) {
	return readSource(ctx, opt, newJournalctlSource(opt), fn)
}

// ReadJournalNoLibsystemd reads opt's journal with the sd-journal source
// as it runs on a host where libsystemd cannot be loaded (the error is
// go-systemd's when dlopen finds no library).
func ReadJournalNoLibsystemd(ctx context.Context, opt ReadOptions, fn func(*Event) error) (*Result, error) {
	s := newSDJournalSource(opt)
	s.open = func() (*sdjournal.Journal, error) {
		return nil, errors.New("unable to open a handle to the library")
	}
	return readSource(ctx, opt, s, fn)
}

// JournalSourceType is the Go type of the source Read reads journald with.
func JournalSourceType(opt ReadOptions) string {
	return fmt.Sprintf("%T", Detected{Kind: "journald"}.source(opt))
}
