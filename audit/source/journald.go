package source

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit/internal/tail"
)

// journalSource reads the kernel and audit transports of the systemd
// journal through `journalctl -o json` (no cgo, no libsystemd), resuming
// after a journal cursor.
type journalSource struct {
	opt     Options
	pos     Position
	entries int
}

// newJournalctlSource is the journalctl source; newJournalSource (one
// per build: journald_default.go, journald_sdjournal.go) chooses it or the
// sd-journal one.
func newJournalctlSource(opt Options) *journalSource {
	return &journalSource{opt: opt, pos: Position{Source: "journald"}}
}

// Journalctl is the source that reads journald through journalctl, whatever
// the build (Journal chooses).
func Journalctl(opt Options) Source {
	return newJournalctlSource(opt)
}

func (s *journalSource) Name() string       { return "journald" }
func (s *journalSource) Lost() []Loss       { return nil }
func (s *journalSource) Position() Position { return s.pos }

// args builds journalctl's command line.
func (s *journalSource) args() []string {
	a := []string{"-o", "json", "--no-pager", "--all"}
	if s.opt.JournalFile != "" {
		a = append(a, "--file", s.opt.JournalFile)
	}
	if cur := s.opt.Cursor.Get("journald"); cur != nil && cur.Journal != "" {
		a = append(a, "--after-cursor", cur.Journal)
		s.pos.Journal = cur.Journal
	} else if !s.opt.Since.IsZero() {
		a = append(a, "--since", "@"+strconv.FormatInt(s.opt.Since.Unix(), 10))
	}
	if s.opt.Follow {
		a = append(a, "--follow", "--no-tail")
	}
	// Two matches on one field are ORed.
	return append(a, "_TRANSPORT=kernel", "_TRANSPORT=audit")
}

func (s *journalSource) Run(ctx context.Context, emit Emit) error {
	bin := or(s.opt.Journalctl, "journalctl")
	cmd := exec.CommandContext(ctx, bin, s.args()...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("journalctl: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("journalctl: %w", err)
	}
	br := bufio.NewReaderSize(out, tail.ChunkSize)
	var ferr error
	_, rerr := tail.ReadLines(br, 0, 0, func(line []byte, _ int) error {
		if len(line) == 0 {
			return nil
		}
		s.entries++
		return s.entry(line, emit)
	})
	if rerr != nil {
		ferr = rerr
		_ = cmd.Process.Kill()
	}
	werr := cmd.Wait()
	switch {
	case ferr != nil:
		return ferr
	case ctx.Err() != nil:
		return nil // following ended
	case werr != nil:
		msg := strings.TrimSpace(stderr.String())
		return fmt.Errorf("journalctl %s: %w: %s", strings.Join(s.args(), " "), werr, msg)
	}
	return nil
}

// journalEntry holds the fields aa-flow uses from one JSON entry.
type journalEntry struct {
	Cursor     string          `json:"__CURSOR"`
	Realtime   string          `json:"__REALTIME_TIMESTAMP"`
	SourceTime string          `json:"_SOURCE_REALTIME_TIMESTAMP"`
	Transport  string          `json:"_TRANSPORT"`
	Facility   string          `json:"SYSLOG_FACILITY"`
	AuditID    string          `json:"_AUDIT_ID"`
	Message    json.RawMessage `json:"MESSAGE"`
}

// entry handles one line of journalctl's JSON output.
func (s *journalSource) entry(line []byte, emit Emit) error {
	var e journalEntry
	if err := json.Unmarshal(line, &e); err != nil {
		return journalMalformed(emit, s.entries, fmt.Errorf("journal entry: %w", err))
	}
	msgs, err := journalMessages(e.Message)
	if err != nil {
		return journalMalformed(emit, s.entries, err)
	}
	rec := journalRecord{
		cursor: e.Cursor,
		time:   usecTime(e.SourceTime, e.Realtime),
		origin: transportOrigin(e.Transport, e.Facility),
		msgs:   msgs,
	}
	rec.serial, _ = strconv.ParseUint(e.AuditID, 10, 64)
	return rec.deliver(emit, &s.pos, s.entries)
}

// journalRecord is what aa-flow uses of one journal entry, whichever way
// it was read (journalctl's JSON or sd-journal).
type journalRecord struct {
	cursor string    // __CURSOR
	time   time.Time // _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP
	origin Origin    // by _TRANSPORT (and SYSLOG_FACILITY): audit, kernel or another
	serial uint64    // _AUDIT_ID
	msgs   [][]byte  // MESSAGE's values
}

// deliver passes the entry's messages to emit (the audit transport's with
// the entry's serial and time), then moves pos past the entry. entryNo
// numbers entries for error reports.
func (rec *journalRecord) deliver(emit Emit, pos *Position, entryNo int) error {
	l := Line{Source: "journald", No: entryNo, Origin: rec.origin, Time: rec.time}
	if rec.origin == Audit {
		l.Serial = rec.serial
	}
	for _, m := range rec.msgs {
		l.Text = m
		if err := emit(&l); err != nil {
			return err
		}
	}
	if rec.cursor != "" {
		pos.Journal = rec.cursor
	}
	if !rec.time.IsZero() {
		pos.Time = rec.time
	}
	return nil
}

// transportOrigin is the origin of a journal entry: Audit for the audit
// transport, Kernel for the kernel's own messages (facility 0, which user
// space cannot write to /dev/kmsg), Other for anything else.
func transportOrigin(transport, facility string) Origin {
	switch {
	case transport == "audit":
		return Audit
	case transport == "kernel" && (facility == "" || facility == "0"):
		return Kernel
	}
	return Other
}

// journalMalformed reports an entry that could not be read.
func journalMalformed(emit Emit, entryNo int, err error) error {
	return emit(&Line{Source: "journald", No: entryNo, Err: err})
}

// journalMessages decodes MESSAGE as journalctl writes it: a string, an
// array of byte values (a field that is not valid UTF-8), or an array of
// either (a field with several values). null (a field too large) is none.
func journalMessages(raw json.RawMessage) ([][]byte, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("MESSAGE: %w", err)
		}
		return [][]byte{[]byte(s)}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, fmt.Errorf("MESSAGE: %w", err)
		}
		if len(items) > 0 && len(bytes.TrimSpace(items[0])) > 0 && isDigit(bytes.TrimSpace(items[0])[0]) {
			var bs []int
			if err := json.Unmarshal(raw, &bs); err != nil {
				return nil, fmt.Errorf("MESSAGE: %w", err)
			}
			b := make([]byte, len(bs))
			for i, v := range bs {
				if v < 0 || v > 255 {
					return nil, fmt.Errorf("MESSAGE: byte %d out of range: %d", i, v)
				}
				b[i] = byte(v)
			}
			return [][]byte{b}, nil
		}
		var out [][]byte
		for _, it := range items {
			m, err := journalMessages(it)
			if err != nil {
				return nil, err
			}
			out = append(out, m...)
		}
		return out, nil
	}
	return nil, errors.New("MESSAGE: neither a string nor an array")
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// usecTime parses the first non-empty microsecond timestamp.
func usecTime(vals ...string) time.Time {
	for _, v := range vals {
		if v == "" {
			continue
		}
		if us, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.UnixMicro(us)
		}
	}
	return time.Time{}
}

// Journal is the source that reads the kernel and audit transports of the
// systemd journal (the system's, or opt.JournalFile), named "journald":
// through sd-journal in the build tagged sdjournal (journalctl when
// libsystemd cannot be loaded), else through journalctl. Its lines are the
// entries' messages, of Origin Kernel or Audit by their _TRANSPORT.
func Journal(opt Options) Source {
	return newJournalSource(opt)
}
