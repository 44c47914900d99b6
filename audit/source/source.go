// Package source is where AppArmor's log lines come from: log files (with
// their rotated predecessors, following them as they grow), standard input,
// the systemd journal (through journalctl's JSON, or sd-journal in the
// build tagged sdjournal), the kernel's ring buffer (/dev/kmsg) and
// auditd's log, and which of these a host has (Detect).
//
// A Source hands each line, with where it came from and what vouches for
// it (its Origin), to a callback. It knows nothing of what the lines say:
// parsing, grouping and trust decisions on the text are package audit's.
package source

import (
	"context"
	"fmt"
	"io"
	"time"
)

// Origin says what vouches for a line's having come from the kernel.
type Origin uint8

const (
	// Text is a line of a log file or of standard input. Nothing proves
	// who wrote it: only its form can (auditd's own line format, or a
	// syslog line tagged kernel:, which a syslog file cannot prove).
	Text Origin = iota
	// Kernel is a message the kernel logged itself: a /dev/kmsg record,
	// or a journal entry with _TRANSPORT=kernel.
	Kernel
	// Audit is an audit record the kernel sent over its audit netlink
	// socket: a journal entry with _TRANSPORT=audit.
	Audit
	// Other is a line known not to be the kernel's: a journal entry of
	// another transport (syslog, stdout, journal), or a /dev/kmsg record
	// written from user space (a facility other than the kernel's).
	Other
)

func (o Origin) String() string {
	switch o {
	case Text:
		return "text"
	case Kernel:
		return "kernel"
	case Audit:
		return "audit"
	case Other:
		return "other"
	}
	return fmt.Sprintf("origin(%d)", uint8(o))
}

// Line is one line a Source read.
type Line struct {
	// Text is the line without its newline: for a file the whole line,
	// for /dev/kmsg and the journal the message alone. It is valid only
	// during the callback.
	Text []byte
	// Source is the Source's Name; File is the file the line was read
	// from when that is not Source itself (a rotated file, NAME.1), else
	// "".
	Source string
	File   string
	// No is the line's 1-based number in File (or Source); for /dev/kmsg
	// and the journal, the record's or entry's.
	No     int
	Origin Origin
	// Time is when the source says the line was logged, zero when it does
	// not: a journal entry's time, a /dev/kmsg record's (its boot-relative
	// stamp made wall-clock time). It dates what the message does not
	// (a loss report); an Audit line's record takes it when its message
	// has no audit(...) stamp.
	Time time.Time
	// Serial is, for Origin Audit, the entry's audit serial (_AUDIT_ID),
	// which the message itself may not carry.
	Serial uint64
	// Err is set, and Text empty, for an entry the source could not read
	// (a journal entry that is not valid JSON).
	Err error
	// Offset is, for a file, the byte offset just past the line in
	// Where() (decompressed bytes for a gzip file), for progress; 0 for
	// sources without one.
	Offset int64
}

// Where names the file (or source) the line was read from.
func (l *Line) Where() string {
	if l.File != "" {
		return l.File
	}
	return l.Source
}

// Emit receives the lines of a Source, in order. An error stops the
// Source, which returns it.
type Emit func(*Line) error

// Source is one place lines come from.
type Source interface {
	// Name is how lines, cursors and losses name the source: a file's
	// path, "-", "journald", "kmsg".
	Name() string
	// Run reads the source to its end (or, following, until ctx is
	// done), passing lines to emit. Cancelled while following, it returns
	// nil.
	Run(ctx context.Context, emit Emit) error
	// Position is where the source stopped, for the cursor; Source is ""
	// when it has none (standard input). Time is zero when the source
	// does not know the time of what it read (a file not followed).
	Position() Position
	// Lost is evidence of lines lost that only the source can see
	// (/dev/kmsg's ring buffer overwritten, rotated files gone unread).
	Lost() []Loss
}

// Resumer is a Source that can tell whether Run resumed exactly after the
// cursor's position (a file found again by identity and offset, /dev/kmsg
// by sequence number): then every line it reads came after the last one
// read before, whatever its stamp, and the cursor's time is not needed to
// skip what was read. Asked once Run has emitted its first line.
type Resumer interface {
	Resumed() bool
}

// Loss is evidence that lines were lost before a Source could read them.
type Loss struct {
	Source string
	Line   int    // the line (or record) where the loss was noticed; 0 if none
	Kind   string // "kmsg-overwritten", "rotation"
	Count  int    // lines lost, when known
	Advice string // what to change so that they are not
}

// Options say what a Source reads.
type Options struct {
	// Since skips what is older, where the source can tell (rotated files
	// are read only as far back as needed; journald's --since).
	Since time.Time
	// Follow keeps reading what is written until ctx is done.
	Follow bool
	// Cursor resumes each source after its Position in it.
	Cursor *Cursor
	// Poll is how often followed files are checked without an fsnotify
	// event (250ms when 0).
	Poll time.Duration
	// Log receives notes (journald read through journalctl instead of
	// sd-journal); nil: none.
	Log io.Writer

	// Where the host keeps its logs, for Detect and journald; empty means
	// the default.
	AuditLog    string   // /var/log/audit/audit.log
	AuditdPid   []string // /run/auditd.pid, /var/run/auditd.pid
	SyslogFiles []string // /var/log/kern.log, /var/log/syslog, /var/log/messages (nil: these)
	Kmsg        string   // /dev/kmsg
	Journalctl  string   // journalctl
	JournalFile string   // passed to journalctl --file; also selects journald
	JournalDir  string   // /run/systemd/journal: journald runs when it exists
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
