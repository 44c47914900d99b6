package learn

import (
	"context"
	"fmt"
	"io"
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
}

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
	// Apply twice = apply once: rules the file already has (an earlier
	// apply that was killed before it resolved the proposal, or a
	// concurrent one) are not written again.
	chosen = missing(cur.File, chosen)
	if len(chosen) == 0 {
		if o.DryRun {
			fmt.Fprintf(log, "%s already has every chosen rule; nothing to write\n", cur.Path)
			return &Applied{Path: cur.Path, DryRun: true}, nil
		}
		return &Applied{Path: cur.Path}, dropDecided(o.Dirs, t, prop, d)
	}
	out, err := parser.InsertRules(cur.Src, cur.File, chosen, "# learned by aa-flow "+now().Format("2006-01-02"))
	if err != nil {
		return nil, fmt.Errorf("add rules to %s: %w", cur.Path, err)
	}
	res := &Applied{Rules: len(chosen), Path: cur.Path, DryRun: o.DryRun}
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
	return res, dropDecided(o.Dirs, t, prop, d)
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
