package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/aa-flow/aa-flow/audit/internal/tail"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// journalSource reads the kernel and audit transports of the systemd
// journal through `journalctl -o json` (no cgo, no libsystemd), resuming
// after a journal cursor.
type journalSource struct {
	opt     ReadOptions
	pos     SourceCursor
	entries int
}

// newJournalctlSource is the journalctl source; newJournalSource (one
// per build: journald_default.go, journald_sdjournal.go) chooses it or the
// sd-journal one.
func newJournalctlSource(opt ReadOptions) *journalSource {
	return &journalSource{opt: opt, pos: SourceCursor{Source: "journald"}}
}

func (s *journalSource) name() string           { return "journald" }
func (s *journalSource) lost() []Lost           { return nil }
func (s *journalSource) position() SourceCursor { return s.pos }

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

func (s *journalSource) run(ctx context.Context, r *reader) error {
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
		return s.entry(line, r)
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
	AuditID    string          `json:"_AUDIT_ID"`
	Message    json.RawMessage `json:"MESSAGE"`
}

// entry handles one line of journalctl's JSON output.
func (s *journalSource) entry(line []byte, r *reader) error {
	var e journalEntry
	if err := json.Unmarshal(line, &e); err != nil {
		journalMalformed(r, s.entries, fmt.Errorf("journal entry: %w", err))
		return nil
	}
	msgs, err := journalMessages(e.Message)
	if err != nil {
		journalMalformed(r, s.entries, err)
		return nil
	}
	rec := journalRecord{
		cursor: e.Cursor,
		time:   usecTime(e.SourceTime, e.Realtime),
		audit:  e.Transport == "audit",
		msgs:   msgs,
	}
	rec.serial, _ = strconv.ParseUint(e.AuditID, 10, 64)
	return rec.deliver(r, &s.pos, s.entries)
}

// journalRecord is what aa-flow uses of one journal entry, whichever way
// it was read (journalctl's JSON or sd-journal).
type journalRecord struct {
	cursor string    // __CURSOR
	time   time.Time // _SOURCE_REALTIME_TIMESTAMP, else __REALTIME_TIMESTAMP
	audit  bool      // _TRANSPORT=audit: each message is an audit record body
	serial uint64    // _AUDIT_ID
	msgs   [][]byte  // MESSAGE's values
}

// deliver passes the entry's messages to r (the audit transport's with the
// entry's serial and time, the kernel's as log lines), then moves pos past
// the entry. entryNo numbers entries for error reports.
func (rec *journalRecord) deliver(r *reader, pos *SourceCursor, entryNo int) error {
	for _, m := range rec.msgs {
		var err error
		if rec.audit {
			err = r.message(m, MessageDefaults{Time: rec.time, Serial: rec.serial}, "journald", entryNo)
		} else {
			err = r.line(m, "journald", entryNo)
		}
		if err != nil {
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

// journalMalformed counts an entry that could not be read.
func journalMalformed(r *reader, entryNo int, err error) {
	r.mu.Lock()
	r.dec.Malformed("journald", entryNo, err)
	r.mu.Unlock()
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
