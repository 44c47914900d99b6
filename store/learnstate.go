package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// The learner's state files in StateDir/NAME/: the pending proposal, where
// the reading it was made from stopped (cursor.pending), and where the last
// resolved proposal's reading stopped (cursor), from which the next learn
// reads on.
const (
	proposalFile      = "proposal.json"
	cursorFile        = "cursor"
	cursorPendingFile = "cursor.pending"
	// namesFile is the person's own rules for learned names (names that
	// stay literal, patterns of their own; propose.ParseNames).
	namesFile = "names"
)

// Names returns the person's names file of name and where it is kept; nil
// data (and no error) when there is none.
func (s *Store) Names(name string) ([]byte, string, error) {
	d, err := s.Dir(name)
	if err != nil {
		return nil, "", err
	}
	p := filepath.Join(d, namesFile)
	b, err := readSafe(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, p, nil
	}
	if err != nil {
		return nil, p, fmt.Errorf("read the names file of %s: %w", name, err)
	}
	return b, p, nil
}

// ErrNoProposal is wrapped by Proposal's error when name has no pending
// proposal.
var ErrNoProposal = errors.New("no pending proposal")

// ProposalPath is the file that keeps the pending proposal of name.
func (s *Store) ProposalPath(name string) (string, error) {
	d, err := s.Dir(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, proposalFile), nil
}

// SaveProposal keeps b (a marshalled proposal) as the pending proposal of
// name, atomically.
func (s *Store) SaveProposal(name string, b []byte) error {
	d, err := s.ensureDir(name)
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(d, proposalFile), b, filePerm); err != nil {
		return fmt.Errorf("save the proposal of %s: %w", name, err)
	}
	return nil
}

// Proposal returns the pending proposal of name as saved and the file it
// is kept in; the error wraps ErrNoProposal when there is none.
func (s *Store) Proposal(name string) ([]byte, string, error) {
	p, err := s.ProposalPath(name)
	if err != nil {
		return nil, "", err
	}
	b, err := readSafe(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, p, fmt.Errorf("%s: %w", name, ErrNoProposal)
	}
	if err != nil {
		return nil, p, fmt.Errorf("read the proposal of %s: %w", name, err)
	}
	return b, p, nil
}

// Cursor decodes where the last resolved proposal's reading stopped into
// v; ok is false when learning has not resolved one yet.
func (s *Store) Cursor(name string, v any) (ok bool, err error) {
	err = s.ReadState(name, cursorFile, v)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// SavePendingCursor keeps v as where the pending proposal's reading
// stopped; ResolveProposal makes it the cursor.
func (s *Store) SavePendingCursor(name string, v any) error {
	return s.WriteState(name, cursorPendingFile, v)
}

// ResolveProposal ends the pending proposal of name (every rule applied or
// rejected): the proposal is removed and the pending cursor becomes the
// cursor, so the next learn starts after the records it was made from.
func (s *Store) ResolveProposal(name string) error {
	d, err := s.Dir(name)
	if err != nil {
		return err
	}
	if err := os.Remove(filepath.Join(d, proposalFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove the resolved proposal of %s: %w", name, err)
	}
	pending := filepath.Join(d, cursorPendingFile)
	if _, err := os.Lstat(pending); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := Rename(pending, filepath.Join(d, cursorFile)); err != nil {
		return fmt.Errorf("advance the cursor of %s: %w", name, err)
	}
	return nil
}
