package learn

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/store"
)

// State files of learning, under StateDir/NAME/.
const (
	proposalFile  = "proposal.json"
	cursorFile    = "cursor"         // where the last resolved proposal's reading stopped
	cursorPending = "cursor.pending" // where the pending proposal's reading stopped
)

func (d Dirs) stateFile(name, file string) string {
	return filepath.Join(d.StateDir, store.DirName(name), file)
}

// ProposalPath is where the pending proposal of name is kept.
func (d Dirs) ProposalPath(name string) string { return d.stateFile(name, proposalFile) }

// SaveProposal keeps prop as the pending proposal of its target.
func SaveProposal(d Dirs, t *Target, prop *profiles.Proposal) error {
	b, err := prop.Marshal()
	if err != nil {
		return err
	}
	return writeState(d.ProposalPath(t.Name), b)
}

// LoadProposal reads the pending proposal of t, for diff, review and apply.
func LoadProposal(d Dirs, t *Target) (*profiles.Proposal, error) {
	p := d.ProposalPath(t.Name)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no pending proposal for %s (run aa-flow learn %s first)", t.Name, t.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("read proposal: %w", err)
	}
	prop, err := profiles.UnmarshalProposal(p, b)
	if err != nil {
		return nil, err
	}
	if prop.Profile != t.Name {
		return nil, fmt.Errorf("%s is a proposal for %q, not %q", p, prop.Profile, t.Name)
	}
	return prop, nil
}

// Resolve ends the proposal of name once every rule in it was applied or
// rejected: the next learn starts after the records it was made from.
func Resolve(d Dirs, name string) error {
	if err := os.Remove(d.ProposalPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove resolved proposal: %w", err)
	}
	pending := d.stateFile(name, cursorPending)
	if _, err := os.Stat(pending); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := store.Rename(pending, d.stateFile(name, cursorFile)); err != nil {
		return fmt.Errorf("advance cursor: %w", err)
	}
	return nil
}

// Reject resolves the proposal when d rejects every rule of it, and
// reports whether it did; otherwise the proposal stays pending.
func Reject(dirs Dirs, prop *profiles.Proposal, d profiles.Decisions) (bool, error) {
	if len(prop.Apply(d)) != 0 || len(d) != len(prop.Rules) {
		return false, nil
	}
	return true, Resolve(dirs, prop.Profile)
}

// dropDecided keeps only the rules not decided on in the pending proposal.
func dropDecided(dirs Dirs, t *Target, prop *profiles.Proposal, d profiles.Decisions) error {
	var rest []*profiles.Rule
	for _, r := range prop.Rules {
		if _, decided := d[r.ID]; !decided {
			rest = append(rest, r)
		}
	}
	if len(rest) == 0 {
		return Resolve(dirs, t.Name)
	}
	prop.Rules = rest
	return SaveProposal(dirs, t, prop)
}

func loadCursor(d Dirs, name string) (*audit.Cursor, error) {
	p := d.stateFile(name, cursorFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cursor: %w", err)
	}
	var c audit.Cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read cursor %s: %w", p, err)
	}
	return &c, nil
}

func savePendingCursor(d Dirs, name string, c *audit.Cursor) error {
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return fmt.Errorf("save cursor: %w", err)
	}
	return writeState(d.stateFile(name, cursorPending), append(b, '\n'))
}

// writeState writes one state file atomically, creating its directory.
func writeState(p string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(p), err)
	}
	if err := store.WriteFileAtomic(p, b, 0o640); err != nil {
		return fmt.Errorf("save %s: %w", filepath.Base(p), err)
	}
	return nil
}
