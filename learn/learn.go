// Package learn is aa-flow's learning loop as the commands run it: read
// the audit records about a profile from where the last learn stopped,
// propose the rules the profile file lacks and keep the proposal (learn);
// write accepted rules into the file and install it (apply). It also
// gives the enforce gate its view of the same records: which are covered
// by the profile as it is now (Coverage) and which were lost (Events).
package learn

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/store"
)

// Options say what Learn reads and where it keeps its state.
type Options struct {
	Dirs
	// ProfileFile learns into this file instead of the managed profile's.
	ProfileFile string
	// From lists the logs to read; empty: the host's own (audit.Read
	// detects it).
	From []string
	// Since drops records older than this (zero: none).
	Since time.Time
	// FromStart reads the sources from their start instead of from the
	// cursor.
	FromStart bool
	// Check only reports: no proposal, cursor or other state is written.
	Check bool
	// Child sends exec transitions to child profiles (cx) instead of ix.
	Child bool
	// Literal turns name inference off for this run: every file rule is
	// the literal name (the names file's patterns still apply).
	Literal bool
	// SeverityDB is the severity database ("" for lint.DefaultSeverityDB,
	// whose absence means the built-in ratings; see lint.OpenSeverity).
	SeverityDB string
	Log        io.Writer // notes such as which source is read
	Stdin      io.Reader // for From "-"
	// Progress, when set, is told how far reading got (a display).
	Progress func(audit.Progress)
}

// Result is what Learn proposes.
type Result struct {
	Target   *Target
	Proposal *propose.Proposal
	// Resumed says the sources were read from where the last learn
	// stopped: records before that are not in the counts.
	Resumed bool
}

// resumed reports whether the cursor had a position in any of the sources
// read.
func resumed(cur *audit.Cursor, sources []string) bool {
	for _, s := range sources {
		if cur != nil && cur.Get(s) != nil {
			return true
		}
	}
	return false
}

// Learn reads the records about name (its hats and children too) and
// proposes the rules its profile does not have yet. Unless Check, the
// proposal is saved as pending (or, when nothing is new, the records count
// as learned and the cursor moves on).
func Learn(ctx context.Context, name string, o Options) (*Result, error) {
	// The profile's lock is held from reading the profile and the cursor
	// to saving the proposal, so two learns (or a learn and an apply)
	// never interleave their reads and writes of the state.
	if !o.Check {
		if err := store.CheckName(name); err != nil {
			return nil, err
		}
		unlock, err := o.Dirs.store().Lock(name)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	t, err := LoadTarget(o.Dirs, name, o.ProfileFile)
	if err != nil {
		return nil, err
	}
	popts, err := proposeOptions(o, t)
	if err != nil {
		return nil, err
	}
	var cur *audit.Cursor
	if !o.FromStart {
		if cur, err = loadCursor(o.Dirs, name); err != nil {
			return nil, err
		}
	}
	p := propose.NewProposer(t.File, name, popts)
	res, err := audit.Read(ctx, audit.ReadOptions{From: o.From, Since: o.Since, Cursor: cur, Profile: name, Log: o.Log, Stdin: o.Stdin, Progress: o.Progress},
		func(e *audit.Event) error {
			// The record is valid only during this call: Add copies
			// what it keeps.
			p.Add(e)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("read records: %w", err)
	}
	prop, err := p.Proposal()
	if err != nil {
		return nil, err
	}
	prop.ProfileFile = t.Path
	prop.Counts.Malformed = res.Stats.MalformedTotal
	prop.Counts.Lost = LostCount(res.Stats.Lost, o.Since)
	prop.Counts.Refused = res.Stats.RefusedTotal
	for why, n := range res.Stats.RefusedBy {
		if prop.Counts.RefusedBy == nil {
			prop.Counts.RefusedBy = map[string]int{}
		}
		prop.Counts.RefusedBy[why.Describe()] += n
	}
	// Read returned only this profile's records; say how many there were
	// in all.
	prop.Counts.Read = max(res.Stats.Records-res.Stats.Duplicates, prop.Counts.Read)
	prop.Counts.Other = prop.Counts.Read - prop.Counts.ForProfile
	if o.Check {
		return &Result{Target: t, Proposal: prop, Resumed: resumed(cur, res.Sources)}, nil
	}
	if err := o.Dirs.store().SavePendingCursor(name, &res.Cursor); err != nil {
		return nil, err
	}
	if len(prop.Rules) == 0 {
		// Nothing new: the records are learned, the cursor moves on.
		err = Resolve(o.Dirs, name)
	} else {
		err = SaveProposal(o.Dirs, t, prop)
	}
	if err != nil {
		return nil, err
	}
	return &Result{Target: t, Proposal: prop, Resumed: resumed(cur, res.Sources)}, nil
}

// LostCount is how many records the loss evidence says were lost at or
// after since (or after a window's opening record: Lost.InWindow). Serial
// gaps are only hints (audit rules and other transports cause them too)
// and do not count; a loss of unknown time counts, and one that does not
// say how many counts as one.
func LostCount(lost []audit.Lost, since time.Time) int {
	n := 0
	for _, l := range lost {
		if l.Kind == "serial-gap" || !l.Counts(since) {
			continue
		}
		n += max(l.Count, 1)
	}
	return n
}

// commonAbstractions are the abstractions learning may suggest.
func commonAbstractions() []string {
	return []string{"base", "nameservice", "ssl_certs", "openssl", "user-tmp", "fonts", "consoles", "bash", "perl", "python"}
}

// proposeOptions wires the host into the proposer: the current policy of
// each (sub)profile, variables, severity, abstractions, exec targets.
func proposeOptions(o Options, t *Target) (propose.ProposeOptions, error) {
	r := parser.ForProfileDir(o.ProfileDir)
	cov := NewCoverage(t.File, r)
	main, err := cov.Policy(t.Name)
	if err != nil {
		return propose.ProposeOptions{}, err
	}
	names, err := loadNames(o.Dirs, t.Name)
	if err != nil {
		return propose.ProposeOptions{}, err
	}
	opts := propose.ProposeOptions{
		Vars:       main.Vars,
		Literal:    o.Literal,
		Names:      names,
		ChildExec:  o.Child,
		Covers:     cov.Covers,
		RunsUnder:  cov.RunsUnder,
		ProfileFor: func(path string) (bool, string) { return ProfileFor(o.ProfileDir, path) },
		Setuid: func(path string) bool {
			fi, err := os.Stat(path)
			return err == nil && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0
		},
	}
	opts.ABI, opts.ABIFeatures = pinnedABI(t.File, o.ProfileDir)
	db, err := lint.OpenSeverity(o.SeverityDB)
	if err != nil {
		return propose.ProposeOptions{}, err
	}
	db = db.WithVars(main.Vars)
	opts.Severity = db
	opts.Abstractions = abstractionCandidates(t, r, db)
	return opts, nil
}

// loadNames reads the profile's names file (StateDir/NAME/names), if any.
func loadNames(d Dirs, name string) (propose.Names, error) {
	b, path, err := d.store().Names(name)
	if err != nil || b == nil {
		return propose.Names{}, err
	}
	return propose.ParseNames(path, b)
}

// abstractionCandidates builds, for each common abstraction the profile
// does not include yet, its policy and the highest severity it grants.
func abstractionCandidates(t *Target, r *parser.Resolver, db *lint.SeverityDB) []propose.AbstractionCandidate {
	have := map[string]bool{}
	if p := t.File.Find(t.Name); p != nil {
		for _, n := range p.Rules {
			if inc, ok := n.(*profiles.Include); ok {
				have[inc.Path] = true
			}
		}
	}
	var out []propose.AbstractionCandidate
	for _, a := range commonAbstractions() {
		name := "abstractions/" + a
		if have[name] {
			continue
		}
		f := &profiles.File{Path: "<" + name + ">", Items: []profiles.Node{
			&profiles.Include{Path: "tunables/global", Angle: true},
			&profiles.Profile{Keyword: "profile", Name: "abstraction", Rules: []profiles.Node{&profiles.Include{Path: name, Angle: true}}},
		}}
		pol, err := policy.NewPolicy(f, "abstraction", r.Load)
		if err != nil {
			continue // not installed here
		}
		out = append(out, rateAbstraction(propose.AbstractionCandidate{Name: name, Covers: pol.Covers, Always: a == "base"}, pol, db))
	}
	return out
}
