package learn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"regexp"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/review"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/store"
	"github.com/aa-flow/aa-flow/templates"
)

// ApplyOptions say how Apply installs the new profile text.
type ApplyOptions struct {
	Dirs
	Parser     string // apparmor_parser ("" finds it in PATH)
	Securityfs string // where securityfs is mounted ("" the default)
	// Exec runs the parser (nil: the real one); tests put a fake kernel
	// here (rollouttest.Kernel.Exec).
	Exec   aaparser.Exec
	NoLoad bool // write the file, do not reload it
	// DryRun changes nothing: the diff of the file and each action that
	// would be taken go to Log.
	DryRun bool
	Color  bool // colour the dry run's diff
	Log    io.Writer
	// Now dates the comment above the new rules (nil: time.Now).
	Now func() time.Time
}

// Applied is what Apply did.
type Applied struct {
	Rules int    // rule lines written
	Path  string // the profile file
	// Revision is the new revision of a managed profile as the store
	// recorded it; nil when none was stored (unmanaged, dry run, nothing
	// to write).
	Revision *store.Revision
	Loaded   bool // the file was reloaded into the kernel
	DryRun   bool // nothing was changed
	// SetAside are the chosen rules apparmor_parser refused; the rest
	// were written, and these stay pending in the proposal.
	SetAside []SetAside
}

// SetAside is a chosen rule that apparmor_parser does not accept (one the
// parser cannot express, such as a unix rule with a path address on 4.1),
// set aside so that it does not sink the rules it does accept.
type SetAside struct {
	Profile string   `json:"profile"` // the (sub)profile it was for
	Rule    string   `json:"rule"`    // the rule's text
	IDs     []string `json:"ids"`     // the proposal's rule IDs
	Reason  string   `json:"reason"`  // the parser's message
}

// ErrParserRefused is returned when apparmor_parser refuses every chosen
// rule: nothing is written, and the rules stay pending.
var ErrParserRefused = errors.New("apparmor_parser refuses every chosen rule")

// Apply writes the rules d accepts into the profile file (before each
// profile's closing brace, under a dated comment), validates it, stores a
// managed profile as a new revision and reloads it; the rules decided on
// leave the pending proposal. With no rule accepted it writes nothing and
// returns Rules 0.
func Apply(ctx context.Context, o ApplyOptions, t *Target, prop *propose.Proposal, d propose.Decisions) (*Applied, error) {
	chosen := prop.Apply(d)
	if len(chosen) == 0 {
		return &Applied{Path: t.Path, DryRun: o.DryRun}, nil
	}
	log := o.Log
	if log == nil {
		log = io.Discard
	}
	h := rollout.NewHost(o.ProfileDir, o.StateDir, o.Parser, o.Securityfs)
	h.DryRun, h.Log = o.DryRun, log
	h.Parser.Exec = o.Exec
	// Hold the profile's lock from reading the file to installing the new
	// one, so a concurrent change is not overwritten.
	if !o.DryRun {
		unlock, err := h.Store.Lock(t.Name)
		if err != nil {
			return nil, err
		}
		defer unlock()
	}
	// Re-read the file: it may have changed since the proposal was made.
	cur, err := t.reload(o.Dirs)
	if err != nil {
		return nil, err
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	if err := needsTunables(cur, chosen); err != nil {
		return nil, err
	}
	comment := "# learned by aa-flow " + now().Format("2006-01-02")
	d, chosen, out, aside, err := parserAccepts(ctx, h, t.Name, cur, prop, d, comment)
	if err != nil {
		return nil, err
	}
	if len(chosen) == 0 {
		if len(aside) > 0 {
			var why []string
			for _, a := range aside {
				why = append(why, fmt.Sprintf("%q: %s", a.Rule, a.Reason))
			}
			return nil, fmt.Errorf("%s: nothing written: %w: %s", cur.Path, ErrParserRefused, strings.Join(why, "; "))
		}
		if o.DryRun {
			fmt.Fprintf(log, "%s already has every chosen rule; nothing to write\n", cur.Path)
			return &Applied{Path: cur.Path, DryRun: true}, nil
		}
		return &Applied{Path: cur.Path}, dropDecided(o.Dirs, t, prop, d)
	}
	res := &Applied{Rules: len(chosen), Path: cur.Path, DryRun: o.DryRun, SetAside: aside}
	if o.DryRun {
		fmt.Fprint(log, review.Unified(cur.Path, cur.Path+" (new)", cur.Src, out, o.Color))
	}
	w := rollout.Write{Name: t.Name, Managed: cur.Managed, Src: out, Base: cur.Src,
		Revision: store.Revision{Reason: fmt.Sprintf("learn: %d rule(s) applied", len(chosen))}, Load: !o.NoLoad}
	if !cur.Managed {
		w.Path = cur.Path
	}
	rev, err := h.Write(ctx, w)
	if err != nil {
		return nil, err
	}
	if o.DryRun {
		return res, nil
	}
	if rev.N > 0 {
		res.Revision = &rev
	}
	res.Loaded = !o.NoLoad
	return res, dropDecided(o.Dirs, t, prop, written(d, chosen))
}

// parserAccepts is what Apply writes: the decided rules the file lacks
// (apply twice = apply once: rules an earlier, killed or concurrent apply
// wrote are not written again), inserted into cur's text. When
// apparmor_parser refuses the result, each rule is tried alone against the
// current file, in the place it would be written (parser.InsertEach: a
// child's rule in its child profile block); those it refuses are set aside
// (left out of the returned decisions, so they stay pending) and the rest
// are tried again. The error
// stands when the file itself does not compile or no single rule is to
// blame.
func parserAccepts(ctx context.Context, h *rollout.Host, name string, cur *Target, prop *propose.Proposal, d propose.Decisions, comment string) (propose.Decisions, []profiles.Chosen, []byte, []SetAside, error) {
	var aside []SetAside
	for {
		chosen := missing(cur.File, prop.Apply(d))
		if len(chosen) == 0 {
			return d, nil, nil, aside, nil
		}
		out, err := parser.InsertRules(cur.Src, cur.File, chosen, comment)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("add rules to %s: %w", cur.Path, err)
		}
		verr := h.Validate(ctx, name, out)
		var perr *aaparser.Error
		if verr == nil || !errors.As(verr, &perr) || h.Validate(ctx, name, cur.Src) != nil {
			return d, chosen, out, aside, nil // Write reports verr
		}
		kept := maps.Clone(d)
		trials, err := parser.InsertEach(cur.Src, cur.File, chosen, comment)
		if err != nil {
			return nil, nil, nil, nil, fmt.Errorf("add rules to %s: %w", cur.Path, err)
		}
		for i, c := range chosen {
			if err := h.Validate(ctx, name, trials[i]); errors.As(err, &perr) {
				aside = append(aside, SetAside{Profile: c.Profile, Rule: c.Text, IDs: c.IDs, Reason: reason(perr.Stderr)})
				for _, id := range c.IDs {
					delete(kept, id)
				}
			}
		}
		if len(kept) == len(d) {
			return d, chosen, out, aside, nil // no one rule to blame: Write reports verr
		}
		d = kept
	}
}

// trialLine is "at line N" in the parser's message about a trial file (the
// current file with one rule added), which is no line of the user's file.
var trialLine = regexp.MustCompile(` at line [0-9]+:`)

// reason is the parser's message about a trial file: its first line (the
// parser adds notes about the cache when run without a kernel), without
// the trial file's line number.
func reason(stderr string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	return trialLine.ReplaceAllString(line, ":")
}

// missing is chosen without the rules the file's (sub)profile already has,
// as the renderer writes them.
func missing(f *profiles.File, chosen []profiles.Chosen) []profiles.Chosen {
	have := map[string]map[string]bool{}
	var out []profiles.Chosen
	for _, c := range chosen {
		if _, ok := have[c.Profile]; !ok {
			have[c.Profile] = map[string]bool{}
			if p := f.Find(c.Profile); p != nil {
				for _, n := range p.Rules {
					if text, err := templates.RenderNode(n, 0); err == nil {
						have[c.Profile][ruleText(text)] = true
					}
				}
			}
		}
		if !have[c.Profile][c.Text] {
			out = append(out, c)
		}
	}
	return out
}

// ruleText is a rendered rule without the comment lines above it.
func ruleText(rendered string) string {
	var keep []string
	for _, l := range strings.Split(rendered, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}
