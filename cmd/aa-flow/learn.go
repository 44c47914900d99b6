package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/review"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/store"
	"github.com/aa-flow/aa-flow/templates"
)

// State files of learning, under --state-dir/NAME/.
const (
	proposalFile  = "proposal.json"
	cursorFile    = "cursor"
	cursorPending = "cursor.pending" // where the pending proposal's reading stopped
	severityDB    = "/etc/apparmor/severity.db"
)

// learnTarget is the profile file learning reads and writes: a managed
// profile, or any file given with --profile-file.
type learnTarget struct {
	name    string
	path    string
	managed bool
	src     []byte
	file    *profiles.File
}

func loadTarget(g *globalOptions, name, profileFile string) (*learnTarget, error) {
	t := &learnTarget{name: name, path: profileFile}
	if profileFile == "" {
		st := &store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}
		p, err := st.ProfilePath(name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w (or learn into a file with --profile-file)", name, err)
		}
		t.path, t.managed = p, true
	}
	src, err := os.ReadFile(t.path)
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	f, err := parser.Parse(t.path, src)
	if err != nil {
		return nil, fmt.Errorf("parse profile: %w", err)
	}
	if f.Find(name) == nil {
		return nil, fmt.Errorf("%s has no profile named %q", t.path, name)
	}
	t.src, t.file = src, f
	return t, nil
}

// learnIncludes resolves includes the way apparmor_parser does: <x> in the
// profile directory (then /etc/apparmor.d), "x" relative to the including
// file; a directory include yields every file in it. Parsed files are
// cached for one run.
type learnIncludes struct {
	dirs  []string
	cache map[string]*profiles.File
}

func newLearnIncludes(profileDir string) *learnIncludes {
	dirs := []string{profileDir}
	if filepath.Clean(profileDir) != "/etc/apparmor.d" {
		dirs = append(dirs, "/etc/apparmor.d")
	}
	return &learnIncludes{dirs: dirs, cache: map[string]*profiles.File{}}
}

func (l *learnIncludes) load(inc *profiles.Include, from string) ([]*profiles.File, error) {
	var cands []string
	if inc.Angle {
		for _, d := range l.dirs {
			cands = append(cands, filepath.Join(d, inc.Path))
		}
	} else if filepath.IsAbs(inc.Path) {
		cands = []string{inc.Path}
	} else {
		cands = []string{filepath.Join(filepath.Dir(from), inc.Path)}
		for _, d := range l.dirs {
			cands = append(cands, filepath.Join(d, inc.Path))
		}
	}
	for _, c := range cands {
		fi, err := os.Stat(c)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			f, err := l.parse(c)
			if err != nil {
				return nil, err
			}
			return []*profiles.File{f}, nil
		}
		ents, err := os.ReadDir(c)
		if err != nil {
			return nil, fmt.Errorf("include %s: %w", c, err)
		}
		var out []*profiles.File
		for _, e := range ents {
			if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			f, err := l.parse(filepath.Join(c, e.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
	if inc.IfExists {
		return nil, nil
	}
	return nil, fmt.Errorf("%s: include %s not found in %s", from, inc.Path, strings.Join(l.dirs, ", "))
}

func (l *learnIncludes) parse(path string) (*profiles.File, error) {
	if f, ok := l.cache[path]; ok {
		return f, nil
	}
	f, err := parser.ParseFile(path)
	if err != nil {
		return nil, fmt.Errorf("include: %w", err)
	}
	l.cache[path] = f
	return f, nil
}

// commonAbstractions are the abstractions learning may suggest.
var commonAbstractions = []string{"base", "nameservice", "ssl_certs", "openssl", "user-tmp", "fonts", "consoles", "bash", "perl", "python"}

// proposeOptions wires the host into Propose: the current policy of each
// (sub)profile, variables, severity, abstractions, exec targets.
func proposeOptions(g *globalOptions, t *learnTarget, child bool) (profiles.ProposeOptions, error) {
	loader := newLearnIncludes(g.ProfileDir)
	policies := map[string]*profiles.Policy{}
	main, err := profiles.NewPolicy(t.file, t.name, loader.load)
	if err != nil {
		return profiles.ProposeOptions{}, fmt.Errorf("read the current policy of %s: %w", t.name, err)
	}
	policies[t.name] = main
	opts := profiles.ProposeOptions{
		Vars:      main.Vars,
		ChildExec: child,
		Render:    func(n profiles.Node) (string, error) { return templates.RenderNode(n, 0) },
		Covers: func(profile string, a profiles.Access) bool {
			p, ok := policies[profile]
			if !ok {
				p = nil
				if t.file.Find(profile) != nil {
					p, _ = profiles.NewPolicy(t.file, profile, loader.load)
				}
				policies[profile] = p
			}
			return p != nil && p.Covers(a)
		},
		ProfileFor: func(path string) bool {
			base := strings.ReplaceAll(strings.TrimPrefix(path, "/"), "/", ".")
			_, err := os.Stat(filepath.Join(g.ProfileDir, base))
			return err == nil
		},
		Setuid: func(path string) bool {
			fi, err := os.Stat(path)
			return err == nil && fi.Mode()&(fs.ModeSetuid|fs.ModeSetgid) != 0
		},
	}
	if db, err := profiles.LoadSeverity(severityDB); err == nil {
		db = db.WithVars(main.Vars)
		opts.Severity = db
		opts.Abstractions = abstractionCandidates(t, loader, db)
	}
	return opts, nil
}

// abstractionCandidates builds, for each common abstraction the profile
// does not include yet, its policy and the highest severity it grants.
func abstractionCandidates(t *learnTarget, loader *learnIncludes, db *profiles.SeverityDB) []profiles.AbstractionCandidate {
	have := map[string]bool{}
	if p := t.file.Find(t.name); p != nil {
		for _, n := range p.Rules {
			if inc, ok := n.(*profiles.Include); ok {
				have[inc.Path] = true
			}
		}
	}
	var out []profiles.AbstractionCandidate
	for _, a := range commonAbstractions {
		name := "abstractions/" + a
		if have[name] {
			continue
		}
		f := &profiles.File{Path: "<" + name + ">", Items: []profiles.Node{
			&profiles.Include{Path: "tunables/global", Angle: true},
			&profiles.Profile{Keyword: "profile", Name: "abstraction", Rules: []profiles.Node{&profiles.Include{Path: name, Angle: true}}},
		}}
		pol, err := profiles.NewPolicy(f, "abstraction", loader.load)
		if err != nil {
			continue // not installed here
		}
		sev := -1
		for _, r := range pol.Rules {
			sev = max(sev, db.Rule(r))
		}
		out = append(out, profiles.AbstractionCandidate{Name: name, Covers: pol.Covers, Severity: sev, Always: a == "base"})
	}
	return out
}

// readStats is what reading the records reported.
type readStats struct {
	records, malformed, lost int
}

// readRecords feeds the records about name from the sources (the files
// given, else the host's own log: audit.Read detects it) to fn, each
// source from the cursor's position (nil: from its start), and returns
// where reading stopped.
func readRecords(ctx context.Context, g *globalOptions, name string, from []string, cur *audit.Cursor, since time.Time, fn func(*audit.Event)) (readStats, *audit.Cursor, error) {
	var st readStats
	res, err := audit.Read(ctx, audit.ReadOptions{From: from, Since: since, Cursor: cur, Profile: name, Log: g.Err, Stdin: g.In},
		func(e *audit.Event) error { fn(e); return nil })
	if err != nil {
		return st, nil, fmt.Errorf("read records: %w", err)
	}
	st.records = res.Stats.Records - res.Stats.Duplicates
	st.malformed = res.Stats.MalformedTotal
	for _, l := range res.Stats.Lost {
		st.lost += max(l.Count, 1)
	}
	return st, &res.Cursor, nil
}

// learnFlags are learn's own flags.
type learnFlags struct {
	from        []string
	since       time.Duration
	check, yes  bool
	profileFile string
	child       bool
	noLoad, dry bool
	fromStart   bool
}

func newLearnCmd(g *globalOptions) *cobra.Command {
	var lf learnFlags
	cmd := &cobra.Command{
		Use:   "learn NAME [--from FILE...]",
		Short: "Propose rules from the audit records; review and apply them",
		Long: `learn reads AppArmor's audit records, keeps those about NAME (its hats and
children too; complain mode's null- children are folded back into NAME as
the exec rule that started them), and proposes the rules the profile does not
have yet: everything already allowed (with its includes and abstractions) is
counted, not proposed. Each rule carries its severity (severity.db) and its
evidence: how many records, first and last seen, a sample comm and pid.

Names from the log are written literally. Globs come only as suggestions
(/proc/<pid>/ to @{PROC}/@{pid}/, home directories, versioned libraries, random
temporary names, many files of one directory), each with the literal rules it
replaces, and never wider than a whole top-level directory or more dangerous
than what it replaces.

Records come from the files given with --from (an audit.log, syslog or
kern.log, dmesg output, /dev/kmsg, gzip-compressed logs, - for standard
input), else from the host's own log: auditd's audit.log when auditd runs,
else journald, else the syslog files, else /dev/kmsg. Each source is read
from where the last learn stopped (the cursor in the
state directory, moved on once a proposal is fully applied or rejected;
--from-start reads everything again).

The proposal is saved to the state directory (proposal.json) and shown as a
unified diff of the profile file. On a terminal, learn then asks about each
rule: accept, reject, or the literal rules instead of a glob. Without a
terminal it never waits: it prints the diff and exits 3 when there is
something new, 0 when there is not (learn --check does that on a terminal
too, and writes nothing). learn --yes accepts everything and applies it.

Exit status: 0 nothing new (or the review ended), 3 new behaviour proposed and
not applied, 1 error, 2 usage.`,
		Example: `  aa-flow learn nginx --from /var/log/audit/audit.log
  aa-flow learn nginx --from /var/log/kern.log --since 2h
  journalctl -k -o cat | aa-flow learn nginx --from -
  aa-flow learn svc --from audit.log --profile-file ./svc.profile --check   # CI`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLearn(cmd.Context(), g, args[0], lf)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&lf.from, "from", nil, "read records from FILE (repeatable; - for standard input)")
	f.DurationVar(&lf.since, "since", 0, "only records from the last DUR (e.g. 2h)")
	f.BoolVar(&lf.check, "check", false, "only report: print the diff, exit 3 when there is something new, write nothing")
	f.BoolVar(&lf.yes, "yes", false, "accept every proposed rule and apply them")
	f.StringVar(&lf.profileFile, "profile-file", "", "learn into this profile file instead of the managed one")
	f.BoolVar(&lf.fromStart, "from-start", false, "read the sources from their start, not from where the last learn stopped")
	f.BoolVar(&lf.child, "child", false, "exec transitions go to child profiles (cx) instead of inheriting (ix)")
	f.BoolVar(&lf.noLoad, "no-load", false, "when applying, write the file but do not reload it")
	f.BoolVar(&lf.dry, "dry-run", false, "when applying, print what would be written and loaded, change nothing")
	return cmd
}

func runLearn(ctx context.Context, g *globalOptions, name string, lf learnFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if lf.check && lf.yes {
		return usagef("--check and --yes exclude each other")
	}
	t, err := loadTarget(g, name, lf.profileFile)
	if err != nil {
		return err
	}
	opts, err := proposeOptions(g, t, lf.child)
	if err != nil {
		return err
	}
	var since time.Time
	if lf.since > 0 {
		since = time.Now().Add(-lf.since)
	}
	var cur *audit.Cursor
	if !lf.fromStart {
		if cur, err = loadCursor(g, name, cursorFile); err != nil {
			return err
		}
	}
	p := profiles.NewProposer(t.file, name, opts)
	st, next, err := readRecords(ctx, g, name, lf.from, cur, since, p.Add)
	if err != nil {
		return err
	}
	prop, err := p.Proposal()
	if err != nil {
		return err
	}
	prop.ProfileFile = t.path
	prop.Counts.Malformed, prop.Counts.Lost = st.malformed, st.lost
	// Read returned only this profile's records; say how many there were
	// in all.
	prop.Counts.Read = max(st.records, prop.Counts.Read)
	prop.Counts.Other = prop.Counts.Read - prop.Counts.ForProfile

	if !lf.check {
		if err := saveState(g, name, cursorPending, next); err != nil {
			return err
		}
		if len(prop.Rules) == 0 {
			// Nothing new: the records are learned, the cursor moves on.
			if err := resolveProposal(g, t); err != nil {
				return err
			}
		} else if err := saveProposal(g, t, prop); err != nil {
			return err
		}
	}
	if err := showProposal(g, t, prop); err != nil {
		return err
	}
	switch {
	case len(prop.Rules) == 0:
		return nil
	case lf.check:
		return withCode(exitNew, errors.New(""))
	case lf.yes:
		d, err := prop.Decide(profiles.Selection{All: true})
		if err != nil {
			return err
		}
		return applyDecisions(ctx, g, t, prop, d, lf.noLoad, lf.dry)
	case isTerminal(g.In) && isTerminal(g.Out) && !g.JSON:
		return reviewAndApply(ctx, g, t, prop, lf.noLoad, lf.dry)
	default:
		return withCode(exitNew, errors.New(""))
	}
}

// isTerminal reports whether a stream is an interactive terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// useColor: on a terminal, unless --no-color or NO_COLOR.
func useColor(g *globalOptions) bool {
	if g.NoColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(g.Out)
}

// showProposal prints the proposal: JSON with --json, else the annotated
// diff and a summary.
func showProposal(g *globalOptions, t *learnTarget, prop *profiles.Proposal) error {
	if g.JSON {
		b, err := prop.Marshal()
		if err != nil {
			return err
		}
		_, err = g.Out.Write(b)
		return err
	}
	if len(prop.Rules) > 0 {
		d, err := review.Annotated(prop, t.path, t.src, t.file, useColor(g))
		if err != nil {
			return err
		}
		fmt.Fprint(g.Out, d)
	}
	fmt.Fprint(g.Out, review.Summary(prop))
	return nil
}

// proposalPath is where the pending proposal of a target lives.
func proposalPath(g *globalOptions, t *learnTarget) string {
	return filepath.Join(g.StateDir, store.DirName(t.name), proposalFile)
}

func saveProposal(g *globalOptions, t *learnTarget, prop *profiles.Proposal) error {
	b, err := prop.Marshal()
	if err != nil {
		return err
	}
	p := proposalPath(g, t)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("save proposal: %w", err)
	}
	if err := store.WriteFileAtomic(p, b, 0o640); err != nil {
		return fmt.Errorf("save proposal: %w", err)
	}
	return nil
}

// loadProposal reads the pending proposal for diff, review and apply.
func loadProposal(g *globalOptions, t *learnTarget) (*profiles.Proposal, error) {
	p := proposalPath(g, t)
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no pending proposal for %s (run aa-flow learn %s first)", t.name, t.name)
	}
	if err != nil {
		return nil, fmt.Errorf("read proposal: %w", err)
	}
	prop, err := profiles.UnmarshalProposal(p, b)
	if err != nil {
		return nil, err
	}
	if prop.Profile != t.name {
		return nil, fmt.Errorf("%s is a proposal for %q, not %q", p, prop.Profile, t.name)
	}
	return prop, nil
}

func reviewAndApply(ctx context.Context, g *globalOptions, t *learnTarget, prop *profiles.Proposal, noLoad, dry bool) error {
	d, ok, err := review.Review(g.In, g.Out, prop, useColor(g))
	if err != nil {
		return err
	}
	if !ok {
		if len(prop.Apply(d)) == 0 && len(d) == len(prop.Rules) {
			// Every rule rejected: the proposal is resolved.
			return resolveProposal(g, t)
		}
		fmt.Fprintf(g.Out, "Nothing written; the proposal stays pending (aa-flow review %s, aa-flow apply %s).\n", t.name, t.name)
		return nil
	}
	return applyDecisions(ctx, g, t, prop, d, noLoad, dry)
}

// applyDecisions writes the accepted rules into the profile file (before
// each profile's closing brace, under a dated comment), validates, stores
// a revision and reloads; the applied rules leave the pending proposal.
func applyDecisions(ctx context.Context, g *globalOptions, t *learnTarget, prop *profiles.Proposal, d profiles.Decisions, noLoad, dry bool) error {
	chosen := prop.Apply(d)
	if len(chosen) == 0 {
		fmt.Fprintf(g.Out, "%s: no rules selected; nothing written\n", t.name)
		return nil
	}
	var h *rollout.Host
	if t.managed {
		h = rollout.NewHost(g.ProfileDir, g.StateDir, g.Parser, g.Securityfs)
		h.DryRun, h.Log = dry, g.Out
		// Hold the profile's lock from reading the file to installing the
		// new one, so a concurrent change is not overwritten.
		unlock, err := h.Store.Lock(t.name)
		if err != nil {
			return err
		}
		defer unlock()
	}
	// Re-read the file: it may have changed since the proposal was made.
	cur, err := loadTarget(g, t.name, pathIfUnmanaged(t))
	if err != nil {
		return err
	}
	comment := "# learned by aa-flow " + time.Now().Format("2006-01-02")
	out, err := profiles.InsertRules(cur.src, cur.file, chosen, comment)
	if err != nil {
		return fmt.Errorf("add rules to %s: %w", cur.path, err)
	}
	reason := fmt.Sprintf("learn: %d rule(s) applied", len(chosen))
	if cur.managed {
		if dry {
			fmt.Fprint(g.Out, review.Unified(cur.path, cur.path+" (new)", cur.src, out, useColor(g)))
		}
		rev, err := h.Install(ctx, t.name, out, reason, !noLoad)
		if err != nil {
			return err
		}
		if dry {
			return nil
		}
		fmt.Fprintf(g.Out, "%s: %d rule line(s) written to %s (revision %d)\n", t.name, len(chosen), cur.path, rev.N)
	} else {
		r := &aaparser.Runner{Path: g.Parser, IncludeDirs: []string{g.ProfileDir}}
		if err := r.Validate(ctx, cur.path, out); err != nil {
			return fmt.Errorf("the profile with the new rules does not compile, nothing written: %w", err)
		}
		if dry {
			fmt.Fprint(g.Out, review.Unified(cur.path, cur.path+" (new)", cur.src, out, useColor(g)))
			fmt.Fprintf(g.Out, "would write %s", cur.path)
			if !noLoad {
				fmt.Fprintf(g.Out, " and run %s -r -W %s", r.Path, cur.path)
			}
			fmt.Fprintln(g.Out)
			return nil
		}
		if err := store.WriteFileAtomic(cur.path, out, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", cur.path, err)
		}
		fmt.Fprintf(g.Out, "%s: %d rule line(s) written to %s\n", t.name, len(chosen), cur.path)
		if !noLoad {
			if err := r.Replace(ctx, cur.path); err != nil {
				return fmt.Errorf("%s was written but not loaded: %w", cur.path, err)
			}
			fmt.Fprintf(g.Out, "%s: reloaded\n", t.name)
		}
	}
	return dropApplied(g, t, prop, d)
}

func pathIfUnmanaged(t *learnTarget) string {
	if t.managed {
		return ""
	}
	return t.path
}

// dropApplied keeps only the rules not decided on in the pending proposal.
func dropApplied(g *globalOptions, t *learnTarget, prop *profiles.Proposal, d profiles.Decisions) error {
	var rest []*profiles.Rule
	for _, r := range prop.Rules {
		if _, decided := d[r.ID]; !decided {
			rest = append(rest, r)
		}
	}
	if len(rest) == 0 {
		return resolveProposal(g, t)
	}
	prop.Rules = rest
	return saveProposal(g, t, prop)
}

// stateFile is a file in the target's state directory.
func stateFile(g *globalOptions, name, file string) string {
	return filepath.Join(g.StateDir, store.DirName(name), file)
}

func loadCursor(g *globalOptions, name, file string) (*audit.Cursor, error) {
	b, err := os.ReadFile(stateFile(g, name, file))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read cursor: %w", err)
	}
	var c audit.Cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("read cursor %s: %w", stateFile(g, name, file), err)
	}
	return &c, nil
}

func saveState(g *globalOptions, name, file string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	p := stateFile(g, name, file)
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	if err := store.WriteFileAtomic(p, append(b, '\n'), 0o640); err != nil {
		return fmt.Errorf("save %s: %w", file, err)
	}
	return nil
}

// resolveProposal ends a proposal whose every rule was applied or
// rejected: the next learn starts after the records it was made from.
func resolveProposal(g *globalOptions, t *learnTarget) error {
	if err := os.Remove(proposalPath(g, t)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove resolved proposal: %w", err)
	}
	pending := stateFile(g, t.name, cursorPending)
	if _, err := os.Stat(pending); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err := os.Rename(pending, stateFile(g, t.name, cursorFile)); err != nil {
		return fmt.Errorf("advance cursor: %w", err)
	}
	return nil
}
