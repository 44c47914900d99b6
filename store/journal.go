package store

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Journal events: the stage transitions and host changes aa-flow records.
const (
	EventInit     = "init"     // a starter profile was created
	EventAdopt    = "adopt"    // an existing profile was taken under management
	EventInstall  = "install"  // a new version was written (and loaded); starts a complain window
	EventRestore  = "restore"  // a failed load or verification was undone
	EventEnforce  = "enforce"  // the gate passed and the profile is in enforce mode
	EventComplain = "complain" // back to complain mode
	EventRollback = "rollback" // an older revision was reinstated
	EventDisable  = "disable"  // unloaded and linked into disable/
	EventEnable   = "enable"   // the disable/ link removed and loaded again
	EventRefused  = "refused"  // the enforce gate refused
)

// JournalEntry is one line of StateDir/NAME/journal.jsonl.
type JournalEntry struct {
	Time     time.Time `json:"time"`
	Event    string    `json:"event"`
	Mode     string    `json:"mode,omitempty"`     // the profile's mode after the event
	Revision int       `json:"revision,omitempty"` // the revision the event wrote or reinstated
	User     string    `json:"user,omitempty"`
	Message  string    `json:"message,omitempty"`
	// Evidence is what a decision was based on (the gate's counts, window,
	// sources), free-form JSON.
	Evidence json.RawMessage `json:"evidence,omitempty"`
}

// AppendJournal appends e as one JSON line and syncs it. A line is written
// with a single write(2) on an O_APPEND file, so concurrent appends never
// interleave; a torn last line after a crash is skipped by Journal.
func (s *Store) AppendJournal(name string, e JournalEntry) error {
	d, err := s.ensureDir(name)
	if err != nil {
		return err
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("journal %s: %w", name, err)
	}
	p := filepath.Join(d, "journal.jsonl")
	f, err := openSafe(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, filePerm)
	if err != nil {
		return fmt.Errorf("journal %s: %w", name, err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("journal %s: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal %s: fsync: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("journal %s: %w", p, err)
	}
	return nil
}

// Journal returns the journal of name, oldest first. A line that does not
// decode (a write torn by a crash) is skipped unless it is not the last line,
// which means the file was damaged and is reported with its line number.
func (s *Store) Journal(name string) ([]JournalEntry, error) {
	d, err := s.Dir(name)
	if err != nil {
		return nil, err
	}
	p := filepath.Join(d, "journal.jsonl")
	b, err := readSafe(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal %s: %w", p, err)
	}
	var out []JournalEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 16<<20)
	line := 0
	var pending error
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if pending != nil {
			return nil, pending
		}
		var e JournalEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			pending = fmt.Errorf("read journal %s:%d: %w", p, line, err)
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", p, err)
	}
	return out, nil
}

// LastEvent returns the newest journal entry whose event is one of events;
// ok is false when there is none.
func (s *Store) LastEvent(name string, events ...string) (e JournalEntry, ok bool, err error) {
	j, err := s.Journal(name)
	if err != nil {
		return e, false, err
	}
	for i := len(j) - 1; i >= 0; i-- {
		for _, ev := range events {
			if j[i].Event == ev {
				return j[i], true, nil
			}
		}
	}
	return e, false, nil
}
