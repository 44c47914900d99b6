package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/learn"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/review"
)

// learnFlags are learn's own flags.
type learnFlags struct {
	from        []string
	since       string
	check, yes  bool
	profileFile string
	child       bool
	literal     bool
	noLoad, dry bool
	fromStart   bool
}

func newLearnCmd(g *globalOptions) *cobra.Command {
	var lf learnFlags
	cmd := &cobra.Command{
		Use:   "learn NAME [--from FILE...]",
		Short: "Propose rules from the audit records; review and apply them",
		Long: `learn reads AppArmor's audit records, keeps those about NAME (its hats and
children too; complain mode's null- children go where the program's exec
rule runs it: NAME for ix, the child profile for cx, none of NAME's for
px), and proposes the rules the profile does not
have yet: everything already allowed (with its includes and abstractions) is
counted, not proposed. Each rule carries its severity (severity.db) and its
evidence: how many records, first and last seen, a sample comm and pid.

Names from the log are written literally, except where aa-flow's inference
says part of a name changes from run to run: counters, pids, epochs, ISO
dates and times, hex strings and hashes, UUIDs, mktemp suffixes, rotated-log
suffixes, per-process and per-user directories. A family of such names becomes
one pattern that keeps every fixed part (/var/backups/archive-[0-9]*.tar.gz,
/tmp/myapp-[0-9]*/sock), from two distinct names, or one when the shape alone
says it is new on every run (an epoch, a date, a UUID, a pid under /proc, a
mktemp name in /tmp). Each pattern says how many names and records it covers,
with examples, and keeps the literal rules it replaces. A pattern is rated by
the most sensitive path it can match: one that would reach more than its names
is not proposed, and one rated 9-10 is held (--yes leaves it pending; name it
in review or with apply --accept). --literal turns inference off for a run;
STATE-DIR/NAME/names pins names literal ("literal PATH") or adds patterns of
your own ("pattern GLOB").

Records come from the files given with --from (an audit.log, syslog or
kern.log, dmesg output, /dev/kmsg, gzip-compressed logs, - for standard
input), else from the host's own log: auditd's audit.log when auditd runs,
else journald, else the syslog files, else /dev/kmsg. Each source is read
from where the last learn stopped (the cursor in the
state directory, moved on once a proposal is fully applied or rejected;
--from-start reads everything again).

` + kernelRecordsHelp + `, and the summary says how
many lines were refused and why.

The proposal is saved to the state directory (proposal.json) and shown as a
unified diff of the profile file. On a terminal, learn then asks about each
rule: accept, reject, or the literal rules instead of a glob. Without a
terminal it never waits: it prints the diff and exits 3 when there is
something new, 0 when there is not (learn --check does that on a terminal
too, and writes nothing). learn --yes accepts everything and applies it.

A program the profile ran without an exec rule runs under complain mode's
null- profile (NAME//null-/path/to/program): its records go where its exec
rule runs it (a cx rule comes with the child profile it needs), but that
profile logs its file accesses and not its network use. The summary
names such programs ("incomplete: ..."), --json lists them as
learning_children, and learn --check exits 3 while their records are in
what it reads: restart the program once its exec rule is loaded, run the
workload again and learn again.

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
	f.StringVar(&lf.since, "since", "", sinceHelp)
	f.BoolVar(&lf.check, "check", false, "only report: print the diff, exit 3 when there is something new, write nothing")
	f.BoolVar(&lf.yes, "yes", false, "accept every proposed rule and apply them")
	f.StringVar(&lf.profileFile, "profile-file", "", "learn into this profile file instead of the managed one")
	f.BoolVar(&lf.fromStart, "from-start", false, "read the sources from their start, not from where the last learn stopped")
	f.BoolVar(&lf.child, "child", false, "exec transitions go to child profiles (cx) instead of inheriting (ix)")
	f.BoolVar(&lf.literal, "literal", false, "no name inference this run: every file rule is the literal name")
	f.BoolVar(&lf.noLoad, "no-load", false, "when applying, write the file but do not reload it")
	f.BoolVar(&lf.dry, "dry-run", false, "when applying, print what would be written and loaded, change nothing")
	return cmd
}

// dirs is where the global options put profiles and state.
func dirs(g *globalOptions) learn.Dirs {
	return learn.Dirs{ProfileDir: g.ProfileDir, StateDir: g.StateDir}
}

func runLearn(ctx context.Context, g *globalOptions, name string, lf learnFlags) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if lf.check && lf.yes {
		return usagef("--check and --yes exclude each other")
	}
	o := learn.Options{Dirs: dirs(g), ProfileFile: lf.profileFile, From: lf.from, FromStart: lf.fromStart,
		Check: lf.check, Child: lf.child, Literal: lf.literal, Log: g.logw(), Stdin: g.In, Progress: readProgress(g)}
	since, err := parseSince(lf.since)
	if err != nil {
		return err
	}
	o.Since = since
	res, err := learn.Learn(ctx, name, o)
	if err != nil {
		return err
	}
	t, prop := res.Target, res.Proposal
	// learn --json --yes prints one document: the proposal with what was
	// applied (below).
	if !g.JSON || !lf.yes || len(prop.Rules) == 0 {
		if err := showProposal(g, t, prop); err != nil {
			return err
		}
	}
	if err := noEvidence(prop); err != nil && !res.Resumed {
		if lf.check {
			return err
		}
		g.warn("%s", err)
	}
	switch {
	case lf.check && (len(prop.Rules) > 0 || !prop.Complete()):
		// A program seen only under a null- profile has behaviour the
		// records do not show: not clean (the summary says why).
		return exitWith(exitNew)
	case len(prop.Rules) == 0:
		return nil
	case lf.yes:
		d, err := prop.Decide(propose.Selection{All: true})
		if err != nil {
			return err
		}
		warnHeld(g, t.Name, prop, d)
		if !g.JSON {
			return applyDecisions(ctx, g, t, prop, d, lf.noLoad, lf.dry)
		}
		r, _, err := applyRules(ctx, g, t, prop, d, lf.noLoad, lf.dry)
		if err != nil {
			_ = showProposal(g, t, prop)
			return err
		}
		return writeJSON(g.Out, learnResult{Proposal: prop, Applied: r})
	case isTerminal(g.In) && isTerminal(g.Out) && !g.JSON:
		return reviewAndApply(ctx, g, t, prop, lf.noLoad, lf.dry)
	default:
		return exitWith(exitNew)
	}
}

// learnResult is learn --json --yes's one document: the proposal's fields
// and what was applied.
type learnResult struct {
	*propose.Proposal
	Applied *actionResult `json:"applied"`
}

// warnHeld says which held rules the decisions leave pending, and why:
// --yes, --all, --except and review's A never take them.
func warnHeld(g *globalOptions, name string, prop *propose.Proposal, d propose.Decisions) {
	for _, r := range prop.Held() {
		if _, ok := d[r.ID]; !ok {
			g.warn("%s: %s left pending: %s", name, r.ID, r.Held)
		}
	}
}

// errNoEvidence is learn's finding that the source held nothing to learn
// from: an error under --check (a CI run on the wrong log must not pass), a
// warning otherwise.
var errNoEvidence = errors.New("nothing to learn from")

// noEvidence returns an error wrapping errNoEvidence when the records read
// say nothing about the profile: none at all, or none for it. (A read that
// resumed where the last learn stopped may find nothing new; that is not
// the wrong input.)
func noEvidence(prop *propose.Proposal) error {
	c := prop.Counts
	switch {
	case c.Read == 0:
		return fmt.Errorf("%w: the source holds no AppArmor records for %s (is it the right log, and did the service run?)", errNoEvidence, prop.Profile)
	case c.ForProfile == 0:
		return fmt.Errorf("%w: none of the %d AppArmor records read is for %s (is %s the profile the service runs under?)", errNoEvidence, c.Read, prop.Profile, prop.Profile)
	}
	return nil
}

// showProposal prints the proposal: JSON with --json, else the annotated
// diff and a summary.
func showProposal(g *globalOptions, t *learn.Target, prop *propose.Proposal) error {
	if g.JSON {
		b, err := prop.Marshal()
		if err != nil {
			return err
		}
		_, err = g.Out.Write(b)
		return err
	}
	if len(prop.Rules) > 0 {
		d, err := review.Annotated(prop, t.Path, t.Src, t.File, colorFor(g, g.Out))
		if err != nil {
			return err
		}
		fmt.Fprint(g.Out, d)
	}
	fmt.Fprint(g.Out, review.Summary(prop))
	return nil
}

// loadPending reads the profile file and the pending proposal of name
// (diff, review, apply).
func loadPending(g *globalOptions, name, profileFile string) (*learn.Target, *propose.Proposal, error) {
	t, err := learn.LoadTarget(dirs(g), name, profileFile)
	if err != nil {
		return nil, nil, err
	}
	prop, err := learn.LoadProposal(dirs(g), t)
	if err != nil {
		return nil, nil, err
	}
	return t, prop, nil
}

func reviewAndApply(ctx context.Context, g *globalOptions, t *learn.Target, prop *propose.Proposal, noLoad, dry bool) error {
	d, ok, err := reviewOnTerminal(g, prop)
	if err != nil {
		return err
	}
	if !ok {
		if resolved, err := learn.Reject(dirs(g), prop, d); err != nil || resolved {
			return err
		}
		g.info("Nothing written; the proposal stays pending (aa-flow review %s, aa-flow apply %s).\n", t.Name, t.Name)
		return nil
	}
	return applyDecisions(ctx, g, t, prop, d, noLoad, dry)
}

// applyDecisions writes the accepted rules and says what was done.
func applyDecisions(ctx context.Context, g *globalOptions, t *learn.Target, prop *propose.Proposal, d propose.Decisions, noLoad, dry bool) error {
	r, msg, err := applyRules(ctx, g, t, prop, d, noLoad, dry)
	if err != nil || msg == "" && !g.JSON {
		return err
	}
	return g.done(*r, "%s", msg)
}

// applyRules writes the accepted rules; it returns what was done, and the
// sentence that says so ("" when the dry run's plan has said it).
func applyRules(ctx context.Context, g *globalOptions, t *learn.Target, prop *propose.Proposal, d propose.Decisions, noLoad, dry bool) (*actionResult, string, error) {
	log := g.Out
	if g.JSON {
		log = g.logw() // standard output holds the JSON document
	}
	res, err := learn.Apply(ctx, learn.ApplyOptions{Dirs: dirs(g), Parser: g.Parser, Securityfs: g.Securityfs,
		NoLoad: noLoad, DryRun: dry, Color: colorFor(g, log), Log: log}, t, prop, d)
	if err != nil {
		return nil, "", err
	}
	r := &actionResult{Profile: t.Name, Action: "apply", DryRun: res.DryRun, Loaded: res.Loaded, Rules: res.Rules, Revision: res.Revision, SetAside: res.SetAside}
	for _, a := range res.SetAside {
		g.warn("%s: %s %s set aside, the others written: apparmor_parser does not accept it (%s); it stays pending (aa-flow review %s to reject it)",
			t.Name, strings.Join(a.IDs, ","), a.Rule, a.Reason, t.Name)
	}
	switch {
	case res.Rules == 0:
		return r, fmt.Sprintf("%s: no rules selected; nothing written\n", t.Name), nil
	case res.DryRun:
		return r, "", nil
	case res.Revision != nil:
		return r, fmt.Sprintf("%s: %d rule line(s) written to %s (revision %d)\n", t.Name, res.Rules, res.Path, res.Revision.N), nil
	case res.Loaded:
		return r, fmt.Sprintf("%s: %d rule line(s) written to %s\n%s: reloaded\n", t.Name, res.Rules, res.Path, t.Name), nil
	}
	return r, fmt.Sprintf("%s: %d rule line(s) written to %s\n", t.Name, res.Rules, res.Path), nil
}
