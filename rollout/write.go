package rollout

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/store"
)

// ErrChanged is wrapped by Write's error when the file no longer holds the
// text the new one was computed from (another process changed it since it
// was read).
var ErrChanged = errors.New("the file changed since it was read; run the command again")

// Write is one change of a policy file, the one way aa-flow writes one:
// install, enforce, complain, rollback, init, learn's apply and fmt -w all
// describe their change as a Write and hand it to Host.Write.
type Write struct {
	// Name is the profile the file defines; "" for a policy file that is
	// no one profile's (an abstraction, a tunables file: fmt).
	Name string
	// Path is the file; empty for the managed profile Name's own file.
	Path string
	// Managed says the change is recorded: a revision before the write and
	// a journal entry after it.
	Managed bool
	// Meta, when set, records Name as managed in Meta.Profile before the
	// write (init).
	Meta *store.Meta
	// Src is the new text.
	Src []byte
	// Base, when non-nil, is the text Src was computed from: if the file
	// holds other text when the write runs, it is refused (ErrChanged).
	Base []byte
	// Revision carries the revision's Reason (and RollbackOf).
	Revision store.Revision
	// Event and Evidence go to the journal entry (store.EventInstall when
	// Event is empty).
	Event    string
	Evidence []byte
	// Load replaces the profile in the kernel after the write and checks
	// the mode the kernel reports, restoring the previous file on failure.
	Load bool
	// Check, when set, validates the change instead of compiling Src with
	// the profile directory on the include path: fmt compares the policy
	// old and src compile to.
	Check func(ctx context.Context, old, src []byte) error
}

// Plan is a Write with every check done and the host's state read (the
// file it replaces, the revision that file is): it is either printed
// (DryRun) or executed, the same steps either way.
type Plan struct {
	w       Write
	path    string // the file written: a symlinked file's target
	old     []byte // the text the file holds now
	existed bool
	perm    os.FileMode
	mode    string            // the mode the new text asks for
	want    map[string]string // the mode of each (sub)profile the kernel must report after loading
	prev    *store.Revision   // managed: the stored revision the file holds now
	saveOld bool              // managed: the file on disk is no stored revision; keep it first
}

// Path is the file the plan writes.
func (p *Plan) Path() string { return p.path }

// Write validates the change, then with the profile's lock held (and the
// lock of the file's directory, for writers of files that are no managed
// profile's) reads the file it replaces and either prints the plan
// (DryRun) or executes it: store the revision, write atomically (keeping
// the file's permissions), load, verify what the kernel reports, and put
// the previous file back if loading or the check fails. A dry run returns
// the revision it would store without a number: numbers are given only by
// storing.
func (h *Host) Write(ctx context.Context, w Write) (store.Revision, error) {
	if w.Name != "" {
		if err := store.CheckName(w.Name); err != nil {
			return store.Revision{}, err
		}
	}
	// A dry run changes nothing and needs no profile lock (taking one
	// would create the state directory of a profile init has not made).
	if w.Name != "" && !h.DryRun {
		unlock, err := h.Store.Lock(w.Name)
		if err != nil {
			return store.Revision{}, err
		}
		defer unlock()
	}
	p, err := h.plan(ctx, w)
	if err != nil {
		return store.Revision{}, err
	}
	unlockDir, err := store.LockDir(filepath.Dir(p.path))
	if err != nil {
		return store.Revision{}, err
	}
	defer unlockDir()
	if err := h.readCurrent(ctx, p); err != nil {
		return store.Revision{}, err
	}
	if h.DryRun {
		return h.print(ctx, p), nil
	}
	return h.execute(ctx, p)
}

// plan runs every check a change needs before anything is read or written:
// the kernel is there (when loading), the profile is not disabled, the new
// text compiles and defines the profile.
func (h *Host) plan(ctx context.Context, w Write) (*Plan, error) {
	if w.Event == "" {
		w.Event = store.EventInstall
	}
	path := w.Path
	if w.Meta != nil {
		path = w.Meta.Profile
	}
	if path == "" {
		p, err := h.Store.ProfilePath(w.Name)
		if err != nil {
			return nil, err
		}
		path = p
	}
	what := w.Name
	if what == "" {
		what = path
	}
	if w.Load {
		if err := h.NeedKernel("load "+what, "use --no-load to only write the profile file"); err != nil {
			return nil, err
		}
		if w.Managed && w.Meta == nil {
			disabled, err := h.Store.HasLink(store.DisableDir, w.Name)
			if err != nil {
				return nil, err
			}
			if disabled {
				return nil, fmt.Errorf("%s is disabled (linked in %s/%s): run aa-flow enable %s first, or use --no-load to only write the file", w.Name, h.Store.ProfileDir, store.DisableDir, w.Name)
			}
		}
	}
	if w.Check == nil {
		if err := h.Validate(ctx, path, w.Src); err != nil {
			return nil, err
		}
	}
	// The file must define the profile it is written as, or the kernel
	// check after loading could only fail. (apparmor_parser is the
	// authority on syntax: text our parser cannot read is not refused.)
	// The new text is parsed once here; its mode and the modes the kernel
	// must report come from this parse.
	var want map[string]string
	mode := ""
	if w.Name != "" {
		f, perr := parser.Parse(path, w.Src)
		if perr != nil {
			f = nil
		}
		if f != nil && f.Find(w.Name) == nil {
			return nil, fmt.Errorf("write %s: the new text defines no profile %q (it has %s)", w.Name, w.Name, profileNames(f))
		}
		mode = modeIn(f, w.Src, w.Name)
		if f != nil {
			want, _ = modesIn(f, w.Name)
		}
		if want == nil {
			want = map[string]string{w.Name: mode}
		}
	}
	// Write through a symlinked profile file to its target.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	return &Plan{w: w, path: path, perm: 0o644, mode: mode, want: want}, nil
}

// readCurrent reads, under the locks, what the plan replaces: the file,
// its permissions, and which stored revision it is.
func (h *Host) readCurrent(ctx context.Context, p *Plan) error {
	old, err := os.ReadFile(p.path)
	switch {
	case err == nil:
		p.old, p.existed = old, true
		if st, err := os.Stat(p.path); err == nil {
			p.perm = st.Mode().Perm()
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s: %w", p.path, err)
	}
	if p.w.Base != nil && !bytes.Equal(old, p.w.Base) {
		return fmt.Errorf("write %s: %w", p.path, ErrChanged)
	}
	if p.w.Check != nil {
		if err := p.w.Check(ctx, old, p.w.Src); err != nil {
			return err
		}
	}
	if !p.w.Managed || !p.existed {
		return nil
	}
	revs, err := h.Store.Revisions(p.w.Name)
	if err != nil {
		return err
	}
	// prev is the stored revision the file holds now: the newest with its
	// text (after a failed change that was restored, not the newest).
	sum := store.SHA256Hex(old)
	for i := len(revs) - 1; i >= 0; i-- {
		if revs[i].SHA256 == sum {
			p.prev = &revs[i]
			break
		}
	}
	p.saveOld = p.prev == nil
	return nil
}

// print tells the plan's steps, changing nothing.
func (h *Host) print(ctx context.Context, p *Plan) store.Revision {
	w := p.w
	if w.Meta != nil {
		h.logf("record %s as the profile file of %s", p.path, w.Name)
	}
	if p.saveOld {
		h.logf("store the current %s as a revision (found on disk)", p.path)
	}
	if w.Managed {
		h.logf("store the new text of %s as a revision (%s, %s)", w.Name, p.mode, w.Revision.Reason)
	}
	h.logf("write %s (%d bytes, mode %04o)", p.path, len(w.Src), p.perm)
	if w.Load {
		_ = h.runner().Replace(ctx, p.path)
		h.logf("check that the kernel reports %s in %s mode", w.Name, p.mode)
	}
	rev := w.Revision
	rev.Time, rev.Mode, rev.User, rev.Path, rev.SHA256 = h.now(), p.mode, h.user(), p.path, store.SHA256Hex(w.Src)
	return rev
}

// execute runs the plan's steps; a failure to load or verify puts the
// previous file back.
func (h *Host) execute(ctx context.Context, p *Plan) (store.Revision, error) {
	w := p.w
	if w.Meta != nil {
		if err := h.Store.Manage(*w.Meta); err != nil {
			return store.Revision{}, err
		}
	}
	var rev store.Revision
	if w.Managed {
		// Keep the file being replaced if aa-flow has no copy of it
		// (adopted, or edited by hand since).
		if p.saveOld {
			r, err := h.Store.SaveRevision(w.Name, p.old, store.Revision{
				Time: h.now(), Reason: "found on disk before " + w.Revision.Reason, Mode: ModeOf(p.old, w.Name), User: h.user(), Path: p.path,
			})
			if err != nil {
				return store.Revision{}, err
			}
			p.prev = &r
		}
		tmpl := w.Revision
		tmpl.Time, tmpl.Mode, tmpl.User, tmpl.Path = h.now(), p.mode, h.user(), p.path
		r, err := h.Store.SaveRevision(w.Name, w.Src, tmpl)
		if err != nil {
			return store.Revision{}, err
		}
		rev = r
		h.hook("revision")
	}
	if err := store.WriteFileAtomicSteps(p.path, w.Src, p.perm, func(s string) { h.hook("write:" + s) }); err != nil {
		return store.Revision{}, fmt.Errorf("write %s: %w", p.path, err)
	}
	if w.Managed {
		h.logf("wrote %s (revision %d, %s)", p.path, rev.N, p.mode)
	} else {
		h.logf("wrote %s", p.path)
	}
	h.hook("write")
	evidence := w.Evidence
	if w.Load {
		if w.Managed && evidence == nil && startsWindow(w.Event) {
			evidence = h.reloadEvidence().json()
		}
		if err := h.loadAndVerify(ctx, w.Name, p.path, p.want); err != nil {
			return store.Revision{}, h.restore(ctx, p, err)
		}
		h.hook("load")
	}
	if !w.Managed {
		return rev, nil
	}
	if err := h.Store.AppendJournal(w.Name, store.JournalEntry{
		Time: h.now(), Event: w.Event, Mode: p.mode, Revision: rev.N, User: h.user(), Message: w.Revision.Reason, Evidence: evidence,
	}); err != nil {
		return rev, err
	}
	h.hook("journal")
	return rev, nil
}

// Install makes src the profile file of the managed profile name: it
// validates src (apparmor_parser -Q -K, profile directory on the include
// path), stores it as a new revision (keeping the file it replaces as a
// revision too if aa-flow never stored it), writes the profile file
// atomically, and, when load is true, replaces the profile in the kernel
// (apparmor_parser -r -W FILE) and checks that the kernel reports the mode
// the file's flags ask for. If loading or that check fails, the previous file
// is written back and reloaded, and the error carries the parser's message.
//
// Install takes the profile's lock (see store.Store.Lock; it is reentrant for
// callers that already hold it through the same Store).
func (h *Host) Install(ctx context.Context, name string, src []byte, reason string, load bool) (store.Revision, error) {
	return h.Write(ctx, Write{Name: name, Managed: true, Src: src, Revision: store.Revision{Reason: reason}, Load: load})
}

// loadAndVerify replaces the profile in the kernel and checks that the
// kernel lists it, and each of its children and hats it lists, in the mode
// want gives (the file's flags, by kernel name).
func (h *Host) loadAndVerify(ctx context.Context, name, path string, want map[string]string) error {
	if err := h.runner().Replace(ctx, path); err != nil {
		return fmt.Errorf("load %s: %w", name, err)
	}
	h.logf("loaded %s (apparmor_parser -r -W %s)", name, path)
	if name == "" {
		return nil
	}
	loaded, err := h.Kernel.Profiles()
	if err != nil {
		return fmt.Errorf("verify %s: %w", name, err)
	}
	got := map[string]string{}
	for _, p := range loaded {
		got[p.Name] = p.Mode
	}
	if _, ok := got[name]; !ok {
		return fmt.Errorf("verify %s: apparmor_parser succeeded but the kernel does not list profile %q in %s", name, name, h.Kernel.ProfilesPath())
	}
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if m, ok := got[n]; ok && m != want[n] {
			return fmt.Errorf("verify %s: the kernel reports %s (%s), the file asks for (%s)", name, n, m, want[n])
		}
	}
	return nil
}

// restore puts the previous file back after a failed load or verification
// and reloads it; cause is the failure. With no previous file, the new one
// is unloaded and removed so nothing half-installed stays. Every failure
// on the way is joined to the returned error, none is dropped.
func (h *Host) restore(ctx context.Context, p *Plan, cause error) error {
	r := h.runner()
	name := p.w.Name
	var errs []error
	journal := func(e store.JournalEntry) {
		if !p.w.Managed {
			return
		}
		if err := h.Store.AppendJournal(name, e); err != nil {
			errs = append(errs, fmt.Errorf("journal the restore: %w", err))
		}
	}
	if !p.existed {
		if err := r.Remove(ctx, p.path); err != nil {
			errs = append(errs, fmt.Errorf("unload the new profile: %w", err))
		}
		if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return errors.Join(cause, fmt.Errorf("removing the new file also failed: %w", err))
		}
		journal(store.JournalEntry{Time: h.now(), Event: store.EventRestore, User: h.user(), Message: "removed after failure: " + cause.Error()})
		h.logf("removed %s after the failure", p.path)
		return errors.Join(append([]error{fmt.Errorf("%w (the new file was removed; nothing is installed)", cause)}, errs...)...)
	}
	if err := store.WriteFileAtomic(p.path, p.old, p.perm); err != nil {
		return errors.Join(cause, fmt.Errorf("restoring the previous file also failed: %w", err))
	}
	h.hook("restore-write")
	n := 0
	if p.prev != nil {
		n = p.prev.N
	}
	if err := r.Replace(ctx, p.path); err != nil {
		return errors.Join(cause, fmt.Errorf("the previous file (revision %d) was written back but reloading it failed too: %w", n, err))
	}
	journal(store.JournalEntry{Time: h.now(), Event: store.EventRestore, Mode: ModeOf(p.old, name), Revision: n, User: h.user(), Message: "restored after failure: " + cause.Error()})
	if !p.w.Managed {
		h.logf("restored %s and reloaded it", p.path)
		return errors.Join(append([]error{fmt.Errorf("%w (restored and reloaded the previous file)", cause)}, errs...)...)
	}
	h.logf("restored %s to revision %d and reloaded it", p.path, n)
	return errors.Join(append([]error{fmt.Errorf("%w (restored and reloaded the previous version, revision %d)", cause, n)}, errs...)...)
}
