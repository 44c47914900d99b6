package learn

import (
	"errors"
	"fmt"
	"maps"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/store"
)

// SaveProposal keeps prop as the pending proposal of its target (in the
// store).
func SaveProposal(d Dirs, t *Target, prop *propose.Proposal) error {
	b, err := prop.Marshal()
	if err != nil {
		return err
	}
	return d.store().SaveProposal(t.Name, b)
}

// LoadProposal reads the pending proposal of t, for diff, review and apply.
func LoadProposal(d Dirs, t *Target) (*propose.Proposal, error) {
	b, p, err := d.store().Proposal(t.Name)
	if errors.Is(err, store.ErrNoProposal) {
		return nil, fmt.Errorf("no pending proposal for %s (run aa-flow learn %s first)", t.Name, t.Name)
	}
	if err != nil {
		return nil, err
	}
	prop, err := propose.UnmarshalProposal(p, b)
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
	return d.store().ResolveProposal(name)
}

// Reject resolves the proposal when d rejects every rule of it, and
// reports whether it did; otherwise the proposal stays pending.
func Reject(dirs Dirs, prop *propose.Proposal, d propose.Decisions) (bool, error) {
	if len(prop.Apply(d)) != 0 || len(d) != len(prop.Rules) {
		return false, nil
	}
	return true, Resolve(dirs, prop.Profile)
}

// written is d with the rules chosen were written for as accepted: a child
// profile written with the cx rule that needs it (propose.Rule.Child) was
// decided on with it.
func written(d propose.Decisions, chosen []profiles.Chosen) propose.Decisions {
	out := maps.Clone(d)
	for _, c := range chosen {
		for _, id := range c.IDs {
			if _, ok := out[id]; !ok {
				out[id] = propose.Accept
			}
		}
	}
	return out
}

// dropDecided keeps only the rules not decided on in the pending proposal.
func dropDecided(dirs Dirs, t *Target, prop *propose.Proposal, d propose.Decisions) error {
	var rest []*propose.Rule
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

// loadCursor is where the last resolved proposal's reading stopped; nil
// before the first.
func loadCursor(d Dirs, name string) (*audit.Cursor, error) {
	var c audit.Cursor
	ok, err := d.store().Cursor(name, &c)
	if err != nil || !ok {
		return nil, err
	}
	return &c, nil
}
