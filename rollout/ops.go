package rollout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/store"
)

// NewHost is the host as the global flags describe it.
func NewHost(profileDir, stateDir, parserPath, securityfs string) *Host {
	return &Host{
		Store:  &store.Store{ProfileDir: profileDir, StateDir: stateDir},
		Parser: &aaparser.Runner{Path: parserPath},
		Kernel: &kernel.FS{Securityfs: securityfs},
	}
}

// EnforceOptions are enforce's inputs.
type EnforceOptions struct {
	Gate GateOptions
	// Force skips the gate (the decision is still journalled).
	Force bool
	// NoLoad writes the file without loading it.
	NoLoad bool
}

// Enforce puts the profile name (and its children and hats) in enforce mode
// when the gate passes: it drops complain from the flags, removes a
// force-complain/ link, reloads with apparmor_parser -r -W and checks that
// the kernel now reports (enforce), restoring the previous revision if not.
// The gate's report is returned whether it passed or not; a refusal is an
// error wrapping ErrGateRefused.
func (h *Host) Enforce(ctx context.Context, name string, opts EnforceOptions) (*GateReport, error) {
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	path, src, err := h.current(name)
	if err != nil {
		return nil, err
	}
	if !opts.NoLoad {
		if err := h.NeedKernel("enforce "+name, "use --no-load to only edit the profile file"); err != nil {
			return nil, err
		}
	}
	newSrc, err := SetMode(src, name, ModeEnforce)
	if err != nil {
		return nil, err
	}
	if bytes.Equal(newSrc, src) {
		mode, loaded := ModeEnforce, true
		if !opts.NoLoad {
			if mode, loaded, err = h.Kernel.Mode(name); err != nil {
				return nil, err
			}
		}
		if loaded && mode == ModeEnforce {
			fmt.Fprintf(h.logw(), "%s is already in enforce mode; nothing to do\n", name)
			return &GateReport{Profile: name, Pass: true}, nil
		}
	}
	var report *GateReport
	if opts.Force {
		report = &GateReport{Profile: name, Pass: true, Reasons: []string{"--force: gate skipped"}}
	} else {
		report, err = h.Gate(ctx, name, opts.Gate)
		if err != nil {
			return nil, err
		}
		if !report.Pass {
			var jerr error
			if !h.DryRun {
				if err := h.Store.AppendJournal(name, store.JournalEntry{Time: h.now(), Event: store.EventRefused, User: h.user(),
					Message: fmt.Sprintf("%d uncovered, %d lost, window %s", report.Uncovered, report.Lost, report.Window), Evidence: report.evidence()}); err != nil {
					jerr = fmt.Errorf("journal the refusal: %w", err)
				}
			}
			return report, errors.Join(report.asError(), jerr)
		}
	}
	if err := h.setLink(store.ForceComplainDir, name, false); err != nil {
		return report, err
	}
	reason := "enforce: gate passed"
	if opts.Force {
		reason = "enforce: --force, gate skipped"
	}
	if _, err := h.Write(ctx, Write{Name: name, Managed: true, Src: newSrc, Base: src, Revision: store.Revision{Reason: reason},
		Load: !opts.NoLoad, Event: store.EventEnforce, Evidence: report.evidence()}); err != nil {
		return report, fmt.Errorf("enforce %s: %w (%s)", name, err, path)
	}
	return report, nil
}

// refusal is a GateReport as an error wrapping ErrGateRefused.
type refusal struct{ r *GateReport }

func (e refusal) Error() string { return e.r.Error() }
func (e refusal) Unwrap() error { return ErrGateRefused }

func (r *GateReport) asError() error { return refusal{r} }

// Complain puts the profile name (and its children and hats) back in
// complain mode and reloads it; a new complain window starts. A profile
// already in complain mode (file, revision and kernel) is reloaded as it is
// and the window restarts all the same: the reload makes the kernel log the
// STATUS record the gate needs at a window's start, so "aa-flow complain
// NAME" is the one way to restart a window. With load false nothing is
// reloaded, so an unchanged profile's window does not restart.
func (h *Host) Complain(ctx context.Context, name string, load bool) (store.Revision, error) {
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return store.Revision{}, err
	}
	defer unlock()
	_, src, err := h.current(name)
	if err != nil {
		return store.Revision{}, err
	}
	newSrc, err := SetMode(src, name, ModeComplain)
	if err != nil {
		return store.Revision{}, err
	}
	if bytes.Equal(newSrc, src) {
		cur, ok, err := h.CurrentRevision(name)
		if err != nil {
			return store.Revision{}, err
		}
		mode, loaded := ModeComplain, true
		if load {
			if mode, loaded, err = h.Kernel.Mode(name); err != nil {
				return store.Revision{}, err
			}
		}
		if ok && loaded && mode == ModeComplain {
			if !load {
				fmt.Fprintf(h.logw(), "%s is already in complain mode; nothing to do (--no-load: the window does not restart)\n", name)
				return cur, nil
			}
			return cur, h.restartWindow(ctx, name, cur, src)
		}
	}
	return h.Write(ctx, Write{Name: name, Managed: true, Src: newSrc, Base: src, Revision: store.Revision{Reason: "complain"}, Load: load, Event: store.EventComplain})
}

// restartWindow reloads the profile name, whose file holds src (the stored
// revision cur, in complain mode in the file and the kernel), checks what the
// kernel reports and journals a complain entry: a new window starts at the
// STATUS record the reload makes the kernel log. No revision is stored: the
// text did not change.
func (h *Host) restartWindow(ctx context.Context, name string, cur store.Revision, src []byte) error {
	path, err := h.Store.ProfilePath(name)
	if err != nil {
		return err
	}
	if err := h.Validate(ctx, path, src); err != nil {
		return err
	}
	if h.DryRun {
		if err := h.runner().Replace(ctx, path); err != nil {
			return err
		}
		h.logf("journal a new complain window for %s (revision %d)", name, cur.N)
		return nil
	}
	want, err := Modes(src, name)
	if err != nil {
		want = map[string]string{name: ModeComplain}
	}
	ev := h.reloadEvidence()
	if err := h.loadAndVerify(ctx, name, path, want); err != nil {
		return fmt.Errorf("complain %s: %w", name, err)
	}
	h.logf("%s was already in complain mode: reloaded it, a new complain window starts (revision %d)", name, cur.N)
	return h.Store.AppendJournal(name, store.JournalEntry{Time: h.now(), Event: store.EventComplain, Mode: ModeComplain, Revision: cur.N, User: h.user(),
		Message: "complain: reloaded to restart the window", Evidence: ev.json()})
}

// current returns the managed profile's file and text.
func (h *Host) current(name string) (string, []byte, error) {
	path, err := h.Store.ProfilePath(name)
	if err != nil {
		return "", nil, err
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("%s: %w", name, err)
	}
	return path, src, nil
}

// CurrentRevision returns the newest revision whose text is the profile file
// now; ok is false when the file differs from every stored revision (edited
// by hand since).
func (h *Host) CurrentRevision(name string) (store.Revision, bool, error) {
	_, src, err := h.current(name)
	if err != nil {
		return store.Revision{}, false, err
	}
	revs, err := h.Store.Revisions(name)
	if err != nil {
		return store.Revision{}, false, err
	}
	sum := store.SHA256Hex(src)
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].SHA256 == sum {
			return revs[i], true, nil
		}
	}
	return store.Revision{}, false, nil
}

// Rollback writes revision to (or, when to is 0, the one RollbackTarget
// names) back as a new revision and reloads it. History is append-only.
func (h *Host) Rollback(ctx context.Context, name string, to int, load bool) (store.Revision, error) {
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return store.Revision{}, err
	}
	defer unlock()
	target, err := h.RollbackTarget(name, to)
	if err != nil {
		return store.Revision{}, err
	}
	text, _, err := h.Store.ReadRevision(name, target.N)
	if err != nil {
		return store.Revision{}, err
	}
	return h.Write(ctx, Write{Name: name, Managed: true, Src: text, Revision: store.Revision{Reason: fmt.Sprintf("rollback to revision %d", target.N), RollbackOf: target.N}, Load: load, Event: store.EventRollback})
}

// RollbackTarget is the stored revision a rollback reinstates: revision to,
// or when to is 0 one step back from the revision the profile file holds
// (see previous). status and rollback --dry-run show it before it happens.
func (h *Host) RollbackTarget(name string, to int) (store.Revision, error) {
	revs, err := h.Store.Revisions(name)
	if err != nil {
		return store.Revision{}, err
	}
	if len(revs) == 0 {
		return store.Revision{}, fmt.Errorf("rollback %s: no revisions stored", name)
	}
	if to == 0 {
		cur, ok, err := h.CurrentRevision(name)
		if err != nil {
			return store.Revision{}, err
		}
		if !ok {
			return store.Revision{}, fmt.Errorf("rollback %s: the profile file was changed outside aa-flow and matches no revision; name one with --to (aa-flow history %s)", name, name)
		}
		to = previous(revs, cur.N)
		if to == 0 {
			return store.Revision{}, fmt.Errorf("rollback %s: revision %d is the first version; there is nothing earlier (aa-flow history %s)", name, cur.N, name)
		}
	}
	_, r, err := h.Store.ReadRevision(name, to)
	return r, err
}

// previous is the revision before n in effective history: for a rollback
// revision, the one before the revision it reinstated; otherwise the newest
// earlier revision with different text. 0 when there is none.
func previous(revs []store.Revision, n int) int {
	byN := map[int]store.Revision{}
	for _, r := range revs {
		byN[r.N] = r
	}
	for seen := 0; seen <= len(revs); seen++ {
		r, ok := byN[n]
		if !ok {
			return 0
		}
		if r.RollbackOf != 0 && r.RollbackOf < n {
			n = r.RollbackOf
			continue
		}
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].N < n && revs[i].SHA256 != r.SHA256 {
				return revs[i].N
			}
		}
		return 0
	}
	return 0
}

// Disable unloads the profile (apparmor_parser -R) and links it into
// disable/ so it is not loaded at boot, as aa-disable does. The link is made
// first, so a crash in between still leaves it disabled at the next boot.
func (h *Host) Disable(ctx context.Context, name string) error {
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	path, _, err := h.current(name)
	if err != nil {
		return err
	}
	if err := h.NeedKernel("disable "+name, ""); err != nil {
		return err
	}
	if err := h.setLink(store.DisableDir, name, true); err != nil {
		return err
	}
	_, loaded, err := h.Kernel.Mode(name)
	if err != nil {
		return err
	}
	if loaded {
		// Under DryRun the runner prints the command instead.
		if err := h.runner().Remove(ctx, path); err != nil {
			return fmt.Errorf("disable %s: %w", name, err)
		}
		if !h.DryRun {
			h.logf("unloaded %s (apparmor_parser -R %s)", name, path)
		}
	}
	return h.journal(name, store.EventDisable, "", nil)
}

// Enable removes the disable/ link and loads the profile again.
func (h *Host) Enable(ctx context.Context, name string) error {
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return err
	}
	defer unlock()
	path, src, err := h.current(name)
	if err != nil {
		return err
	}
	if err := h.NeedKernel("enable "+name, ""); err != nil {
		return err
	}
	if err := h.Validate(ctx, path, src); err != nil {
		return err
	}
	if err := h.setLink(store.DisableDir, name, false); err != nil {
		return err
	}
	if h.DryRun {
		return h.runner().Replace(ctx, path)
	}
	want, err := Modes(src, name)
	if err != nil {
		want = map[string]string{name: ModeOf(src, name)}
	}
	ev := h.reloadEvidence()
	if err := h.loadAndVerify(ctx, name, path, want); err != nil {
		return fmt.Errorf("enable %s: %w", name, err)
	}
	return h.journal(name, store.EventEnable, ModeOf(src, name), ev.json())
}

func (h *Host) journal(name, event, mode string, evidence json.RawMessage) error {
	if h.DryRun {
		return nil
	}
	rev, _, _ := h.CurrentRevision(name)
	return h.Store.AppendJournal(name, store.JournalEntry{Time: h.now(), Event: event, Mode: mode, Revision: rev.N, User: h.user(), Evidence: evidence})
}

// setLink makes or removes a marker link, or says it would.
func (h *Host) setLink(dir, name string, on bool) error {
	has, err := h.Store.HasLink(dir, name)
	if err != nil {
		return err
	}
	if has == on {
		return nil
	}
	l, err := h.Store.LinkPath(dir, name)
	if err != nil {
		return err
	}
	if on {
		h.logf("link %s", l)
	} else {
		h.logf("remove %s", l)
	}
	if h.DryRun {
		return nil
	}
	return h.Store.SetLink(dir, name, on)
}

// Adopt takes an existing profile file under aa-flow's management: it is
// validated, recorded in the state directory and stored as revision 1. The
// file itself is not changed.
func (h *Host) Adopt(ctx context.Context, name, path string) (store.Revision, error) {
	if h.Store.Managed(name) {
		return store.Revision{}, fmt.Errorf("adopt %s: already managed by aa-flow", name)
	}
	src, err := os.ReadFile(path)
	if err != nil {
		return store.Revision{}, fmt.Errorf("adopt %s: %w", name, err)
	}
	if err := h.Validate(ctx, path, src); err != nil {
		return store.Revision{}, err
	}
	if _, err := Modes(src, name); err != nil {
		return store.Revision{}, fmt.Errorf("adopt %s from %s: %w", name, path, err)
	}
	mode := ModeOf(src, name)
	if h.DryRun {
		h.logf("record %s as the profile file of %s and store it as a revision", path, name)
		return store.Revision{Mode: mode, SHA256: store.SHA256Hex(src), Path: path}, nil
	}
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return store.Revision{}, err
	}
	defer unlock()
	if err := h.Store.Manage(store.Meta{Name: name, Profile: path, Created: h.now(), Adopted: true}); err != nil {
		return store.Revision{}, err
	}
	rev, err := h.Store.SaveRevision(name, src, store.Revision{Time: h.now(), Reason: "adopted " + path, Mode: mode, User: h.user(), Path: path})
	if err != nil {
		return store.Revision{}, err
	}
	if err := h.Store.AppendJournal(name, store.JournalEntry{Time: h.now(), Event: store.EventAdopt, Mode: mode, Revision: rev.N, User: h.user(), Message: path}); err != nil {
		return rev, err
	}
	return rev, nil
}

// Create starts managing a new profile name in the file path with the text
// src (a starter profile): it refuses to overwrite an existing file unless
// force, then installs src like Install.
func (h *Host) Create(ctx context.Context, name, path, exe string, src []byte, force, load bool) (store.Revision, error) {
	if _, err := os.Stat(path); err == nil && !force {
		return store.Revision{}, fmt.Errorf("init %s: %s exists; pass --force to replace it (its text is kept as a revision), or --adopt to manage it as it is", name, path)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return store.Revision{}, fmt.Errorf("init %s: %w", name, err)
	}
	if m, err := h.Store.Meta(name); err == nil && m.Profile != path && !force {
		return store.Revision{}, fmt.Errorf("init %s: already managed in %s; pass --force to start over", name, m.Profile)
	}
	return h.Write(ctx, Write{Name: name, Managed: true, Meta: &store.Meta{Name: name, Profile: path, Created: h.now(), Exec: exe},
		Src: src, Revision: store.Revision{Reason: "init"}, Load: load, Event: store.EventInit})
}
