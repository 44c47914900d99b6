//go:build sdjournal && cgo

package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/sdjournal"
)

// journalWait bounds one wait for new journal entries while following, so
// a cancelled context is noticed within it.
const journalWait = 250 * time.Millisecond

// newJournalSource reads journald through libsystemd's sd-journal API
// (built with -tags sdjournal). libsystemd is loaded when the journal is
// opened; without it the source reads through journalctl instead.
func newJournalSource(opt Options) Source {
	return newSDJournalSource(opt)
}

// sdJournalSource reads what journalSource reads (the kernel and audit
// transports, from the system journal or opt.JournalFile, after a cursor
// or from Since, following if asked) through sd-journal instead of
// journalctl's JSON: no process, no JSON, MESSAGE as raw bytes.
type sdJournalSource struct {
	opt     Options
	pos     Position
	entries int
	// since skips entries older than this (µs), as journalctl --since
	// does; 0 when resuming at a cursor or without Since.
	since uint64
	// open opens the journal to read; a test replaces it.
	open func() (*sdjournal.Journal, error)
	// fallback is the journalctl source, once libsystemd failed to load.
	fallback *journalSource
}

func newSDJournalSource(opt Options) *sdJournalSource {
	s := &sdJournalSource{opt: opt, pos: Position{Source: "journald"}}
	s.open = s.openJournal
	return s
}

func (s *sdJournalSource) Name() string { return "journald" }
func (s *sdJournalSource) Lost() []Loss { return nil }

func (s *sdJournalSource) Position() Position {
	if s.fallback != nil {
		return s.fallback.Position()
	}
	return s.pos
}

// where names the journal read, for errors.
func (s *sdJournalSource) where() string {
	return or(s.opt.JournalFile, "system journal")
}

// openJournal opens opt.JournalFile, or the local system journal.
func (s *sdJournalSource) openJournal() (*sdjournal.Journal, error) {
	if s.opt.JournalFile != "" {
		return sdjournal.NewJournalFromFiles(s.opt.JournalFile)
	}
	return sdjournal.NewJournal()
}

// libsystemdMissing reports whether an error opening the journal means
// libsystemd (or one of its functions) could not be loaded: every failure
// of an sd-journal call itself carries its errno.
func libsystemdMissing(err error) bool {
	var errno syscall.Errno
	return !errors.As(err, &errno)
}

func (s *sdJournalSource) Run(ctx context.Context, emit Emit) error {
	j, err := s.open()
	if err != nil {
		if libsystemdMissing(err) {
			s.opt.note("journald: libsystemd cannot be loaded (%v); reading with journalctl instead", err)
			s.fallback = newJournalctlSource(s.opt)
			return s.fallback.Run(ctx, emit)
		}
		return fmt.Errorf("journal %s: %w", s.where(), err)
	}
	defer func() { _ = j.Close() }()
	skip, err := s.prepare(j)
	if err != nil {
		return fmt.Errorf("journal %s: %w", s.where(), err)
	}
	for ctx.Err() == nil {
		n, err := j.Next()
		if err != nil {
			return fmt.Errorf("journal %s: %w", s.where(), err)
		}
		if n == 0 {
			if !s.opt.Follow {
				return nil
			}
			// Wait returns at the timeout too: Next is tried again
			// either way.
			if w := j.Wait(journalWait); w < 0 {
				return fmt.Errorf("journal %s: wait: %w", s.where(), syscall.Errno(-w))
			}
			continue
		}
		if skip != "" {
			// The first entry after seeking to a cursor is the cursor's
			// own when it still exists: it was read before.
			at := j.TestCursor(skip)
			skip = ""
			if at == nil {
				continue
			}
			if !errors.Is(at, sdjournal.ErrNoTestCursor) {
				return fmt.Errorf("journal %s: %w", s.where(), at)
			}
		}
		if err := s.entry(j, emit); err != nil {
			return err
		}
	}
	return nil // cancelled: following ended
}

// prepare sets the matches and the start: after opt's cursor (it returns
// the cursor, whose own entry is to be skipped), else at Since, else at
// the head.
func (s *sdJournalSource) prepare(j *sdjournal.Journal) (skip string, err error) {
	// journalctl --all: fields of any size, whole.
	if err := j.SetDataThreshold(0); err != nil {
		return "", err
	}
	if err := j.AddMatch("_TRANSPORT=kernel"); err != nil {
		return "", err
	}
	if err := j.AddDisjunction(); err != nil {
		return "", err
	}
	if err := j.AddMatch("_TRANSPORT=audit"); err != nil {
		return "", err
	}
	if s.opt.Follow {
		// The first wait only starts watching for changes and returns
		// at once; watch from the start, as journalctl does.
		if w := j.Wait(0); w < 0 {
			return "", fmt.Errorf("watch: %w", syscall.Errno(-w))
		}
	}
	if cur := s.opt.Cursor.Get("journald"); cur != nil && cur.Journal != "" {
		s.pos.Journal = cur.Journal
		return cur.Journal, j.SeekCursor(cur.Journal)
	}
	if sec := s.opt.Since.Unix(); !s.opt.Since.IsZero() && sec > 0 {
		// Whole seconds, as journalctl --since @SECONDS has it.
		s.since = uint64(sec) * 1e6
		return "", j.SeekRealtimeUsec(s.since)
	}
	return "", j.SeekHead()
}

// entry reads the entry Next moved to and delivers its messages.
func (s *sdJournalSource) entry(j *sdjournal.Journal, emit Emit) error {
	rt, err := j.GetRealtimeUsec()
	if err == nil && rt < s.since {
		// Older than Since: entries are not strictly ordered by time,
		// so seeking is not enough (journalctl skips these too).
		return nil
	}
	s.entries++
	var rec journalRecord
	if err == nil {
		err = readRecord(j, rt, &rec)
	}
	if err != nil {
		return journalMalformed(emit, s.entries, fmt.Errorf("journal entry: %w", err))
	}
	return rec.deliver(emit, &s.pos, s.entries)
}

// readRecord reads the fields aa-flow uses from the current entry, whose
// __REALTIME_TIMESTAMP is rt. sd-journal returns one value of a field: an
// entry with several MESSAGE values (which journalctl lists) yields only
// its first.
func readRecord(j *sdjournal.Journal, rt uint64, rec *journalRecord) error {
	var err error
	if rec.cursor, err = j.GetCursor(); err != nil {
		return err
	}
	transport, err := sdField(j, "_TRANSPORT")
	if err != nil {
		return err
	}
	facility, err := sdField(j, "SYSLOG_FACILITY")
	if err != nil {
		return err
	}
	rec.origin = transportOrigin(string(transport), string(facility))
	if rec.origin == Audit {
		id, err := sdField(j, "_AUDIT_ID")
		if err != nil {
			return err
		}
		rec.serial, _ = strconv.ParseUint(string(id), 10, 64)
	}
	src, err := sdField(j, "_SOURCE_REALTIME_TIMESTAMP")
	if err != nil {
		return err
	}
	if rec.time = usecTime(string(src)); rec.time.IsZero() {
		rec.time = time.UnixMicro(int64(rt))
	}
	msg, err := sdField(j, "MESSAGE")
	if err != nil {
		return err
	}
	if msg != nil {
		rec.msgs = [][]byte{msg}
	}
	return nil
}

// sdField returns the raw bytes of one field of the current entry, nil
// when the entry has no such field.
func sdField(j *sdjournal.Journal, field string) ([]byte, error) {
	b, err := j.GetDataBytes(field)
	if errors.Is(err, syscall.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	v, ok := bytes.CutPrefix(b, []byte(field+"="))
	if !ok {
		return nil, fmt.Errorf("%s: data %.20q has another name", field, b)
	}
	return v, nil
}

// note writes a line to the log, if any.
func (opt *Options) note(format string, args ...any) {
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, format+"\n", args...)
	}
}
