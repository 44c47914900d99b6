package store

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Revision describes one stored version of a profile file. History is
// append-only: a rollback stores the old text again as a new revision.
type Revision struct {
	N      int       `json:"n"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	Mode   string    `json:"mode"` // complain, enforce, ... as the file's flags say
	User   string    `json:"user"`
	SHA256 string    `json:"sha256"`
	// Path is the profile file the revision was written to.
	Path string `json:"path,omitempty"`
	// RollbackOf is the revision a rollback reinstated (0 otherwise), so
	// that the next rollback goes further back instead of forth.
	RollbackOf int `json:"rollback_of,omitempty"`
}

// SHA256Hex is the content hash recorded in Revision.SHA256.
func SHA256Hex(data []byte) string {
	h := sha256.Sum256(data)
	return hex.EncodeToString(h[:])
}

func revName(n int, ext string) string { return fmt.Sprintf("%04d.%s", n, ext) }

// SaveRevision stores data as the next revision of name and returns it with
// N and SHA256 filled in. The text is written before its sidecar, so a crash
// leaves at most an unlisted text file, never a listed revision without text.
func (s *Store) SaveRevision(name string, data []byte, r Revision) (Revision, error) {
	d, err := s.ensureDir(name, "revisions")
	if err != nil {
		return Revision{}, err
	}
	last, err := lastNumber(d)
	if err != nil {
		return Revision{}, err
	}
	r.N = last + 1
	r.SHA256 = SHA256Hex(data)
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	if err := WriteFileAtomic(filepath.Join(d, revName(r.N, "profile")), data, filePerm); err != nil {
		return Revision{}, fmt.Errorf("save revision %d of %s: %w", r.N, name, err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return Revision{}, fmt.Errorf("save revision %d of %s: %w", r.N, name, err)
	}
	if err := WriteFileAtomic(filepath.Join(d, revName(r.N, "json")), append(b, '\n'), filePerm); err != nil {
		return Revision{}, fmt.Errorf("save revision %d of %s: %w", r.N, name, err)
	}
	return r, nil
}

// lastNumber is the highest revision number used by any file in dir, listed
// or not, so that a number is never reused.
func lastNumber(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, fmt.Errorf("read revisions %s: %w", dir, err)
	}
	last := 0
	for _, e := range ents {
		stem, _, ok := strings.Cut(e.Name(), ".")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(stem); err == nil && n > last {
			last = n
		}
	}
	return last, nil
}

// Revisions lists the stored revisions of name, oldest first. A profile with
// no revisions gives an empty list.
func (s *Store) Revisions(name string) ([]Revision, error) {
	d, err := s.Dir(name)
	if err != nil {
		return nil, err
	}
	d = filepath.Join(d, "revisions")
	ents, err := os.ReadDir(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read revisions of %s: %w", name, err)
	}
	var out []Revision
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(d, e.Name())
		b, err := readSafe(p)
		if err != nil {
			return nil, fmt.Errorf("read revision %s: %w", p, err)
		}
		var r Revision
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("read revision %s: %w", p, err)
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].N < out[j].N })
	return out, nil
}

// LastRevision returns the newest revision; ok is false when there is none.
func (s *Store) LastRevision(name string) (r Revision, ok bool, err error) {
	revs, err := s.Revisions(name)
	if err != nil || len(revs) == 0 {
		return Revision{}, false, err
	}
	return revs[len(revs)-1], true, nil
}

// ReadRevision returns the text of revision n and its description, checking
// the text against the recorded hash.
func (s *Store) ReadRevision(name string, n int) ([]byte, Revision, error) {
	d, err := s.Dir(name)
	if err != nil {
		return nil, Revision{}, err
	}
	d = filepath.Join(d, "revisions")
	var r Revision
	b, err := readSafe(filepath.Join(d, revName(n, "json")))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, r, fmt.Errorf("%s has no revision %d (aa-flow history %s lists them)", name, n, name)
	}
	if err != nil {
		return nil, r, fmt.Errorf("read revision %d of %s: %w", n, name, err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, r, fmt.Errorf("read revision %d of %s: %w", n, name, err)
	}
	text, err := readSafe(filepath.Join(d, revName(n, "profile")))
	if err != nil {
		return nil, r, fmt.Errorf("read revision %d of %s: %w", n, name, err)
	}
	if got := SHA256Hex(text); got != r.SHA256 {
		return nil, r, fmt.Errorf("revision %d of %s is corrupt: sha256 %s, recorded %s", n, name, got, r.SHA256)
	}
	return text, r, nil
}
