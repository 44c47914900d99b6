// Package rollout changes a host's AppArmor policy safely: it installs a
// profile version (validate, store the revision, write atomically, load,
// verify what the kernel reports, restore the previous version on failure),
// flips profiles between complain and enforce mode behind the enforce gate,
// rolls back to stored revisions, and disables or enables profiles.
//
// It orchestrates store (files and history), aaparser (validation and
// loading) and kernel (what is loaded); it knows nothing of log formats or
// rule semantics beyond a profile's flags.
package rollout

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/store"
)

// Host is one machine's AppArmor policy: its profile directory and aa-flow
// state (Store), the parser that validates and loads (Parser) and the
// kernel's view (Kernel).
type Host struct {
	Store  *store.Store
	Parser *aaparser.Runner
	Kernel *kernel.FS
	// DryRun prints every file write and every apparmor_parser command that
	// would change the host, and changes nothing. Validation still runs.
	DryRun bool
	// Log receives one line per change made (or, with DryRun, planned).
	// Nil discards.
	Log io.Writer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// User is recorded in revisions and the journal; the invoking user
	// ($SUDO_USER, else the process owner) when empty.
	User string

	// step, when set, is called after each step of a change; tests use it
	// to kill the process between steps.
	step func(string)
	// validated remembers the texts Validate passed (by file and hash):
	// a command that checks a text early (init, before recording
	// anything) does not compile it again when it installs it.
	validated map[string]bool
}

func (h *Host) now() time.Time {
	if h.Now != nil {
		return h.Now()
	}
	return time.Now()
}

func (h *Host) user() string {
	if h.User != "" {
		return h.User
	}
	if u := os.Getenv("SUDO_USER"); u != "" {
		return u
	}
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

func (h *Host) logf(format string, args ...any) {
	if h.Log == nil {
		return
	}
	if h.DryRun {
		format = "dry-run: would " + format
	}
	fmt.Fprintf(h.Log, format+"\n", args...)
}

func (h *Host) hook(s string) {
	if h.step != nil {
		h.step(s)
	}
}

// runner returns the parser with the profile directory on its include path
// (so local includes resolve as they will when the file is loaded) and, under
// DryRun, with loading and removal printed instead of run.
func (h *Host) runner() *aaparser.Runner {
	r := aaparser.Runner{}
	if h.Parser != nil {
		r = *h.Parser
	}
	if h.Store != nil && h.Store.ProfileDir != "" && !contains(r.IncludeDirs, h.Store.ProfileDir) {
		r.IncludeDirs = append([]string{h.Store.ProfileDir}, r.IncludeDirs...)
	}
	if h.DryRun {
		inner := r.Exec
		if inner == nil {
			inner = aaparser.SystemExec
		}
		r.Exec = func(ctx context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
			if changesKernel(args) {
				fmt.Fprintf(h.logw(), "dry-run: would run: %s %s\n", name, strings.Join(args, " "))
				return nil, nil, nil
			}
			return inner(ctx, name, args, stdin)
		}
	}
	return &r
}

func (h *Host) logw() io.Writer {
	if h.Log == nil {
		return io.Discard
	}
	return h.Log
}

// changesKernel reports whether apparmor_parser arguments load, replace or
// remove policy (rather than only compile it).
func changesKernel(args []string) bool {
	for _, a := range args {
		switch a {
		case "-r", "-R", "-a", "--replace", "--remove", "--add":
			return true
		}
	}
	return false
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// NeedKernel returns a clear error when AppArmor is not in the kernel:
// "cannot ACTION: AppArmor is not enabled ...", then hint. A dry run needs
// no kernel.
func (h *Host) NeedKernel(action, hint string) error {
	if h.DryRun {
		return nil
	}
	if err := h.Kernel.Available(); err != nil {
		if hint != "" {
			return fmt.Errorf("cannot %s: %w\n%s", action, err, hint)
		}
		return fmt.Errorf("cannot %s: %w", action, err)
	}
	return nil
}

// Validate compiles src with apparmor_parser -Q -K without touching the
// kernel; the error carries the parser's own message.
func (h *Host) Validate(ctx context.Context, name string, src []byte) error {
	key := name + "\x00" + store.SHA256Hex(src)
	if h.validated[key] {
		return nil
	}
	if _, err := h.runner().Compile(ctx, name, src); err != nil {
		return fmt.Errorf("validate %s: %w", name, err)
	}
	if h.validated == nil {
		h.validated = map[string]bool{}
	}
	h.validated[key] = true
	return nil
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
	unlock, err := h.Store.Lock(name)
	if err != nil {
		return store.Revision{}, err
	}
	defer unlock()
	return h.install(ctx, name, src, store.Revision{Reason: reason}, load, store.EventInstall, nil)
}

// install is Install with the lock held; tmpl carries the revision's reason
// (and RollbackOf); event and evidence go to the journal entry.
func (h *Host) install(ctx context.Context, name string, src []byte, tmpl store.Revision, load bool, event string, evidence []byte) (store.Revision, error) {
	reason := tmpl.Reason
	path, err := h.Store.ProfilePath(name)
	if err != nil {
		return store.Revision{}, err
	}
	if load {
		if err := h.NeedKernel("load "+name, "use --no-load to only write the profile file"); err != nil {
			return store.Revision{}, err
		}
		disabled, err := h.Store.HasLink(store.DisableDir, name)
		if err != nil {
			return store.Revision{}, err
		}
		if disabled {
			return store.Revision{}, fmt.Errorf("%s is disabled (linked in %s/%s): run aa-flow enable %s first, or use --no-load to only write the file", name, h.Store.ProfileDir, store.DisableDir, name)
		}
	}
	if err := h.Validate(ctx, path, src); err != nil {
		return store.Revision{}, err
	}
	// The file must define the profile it is installed as, or the kernel
	// check after loading could only fail. (apparmor_parser is the
	// authority on syntax: text our parser cannot read is not refused.)
	if f, perr := parser.Parse(path, src); perr == nil && f.Find(name) == nil {
		return store.Revision{}, fmt.Errorf("install %s: the new text defines no profile %q (it has %s)", name, name, profileNames(f))
	}
	// Write through a symlinked profile file to its target.
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	mode := ModeOf(src, name)
	old, err := os.ReadFile(path)
	existed := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return store.Revision{}, fmt.Errorf("install %s: %w", name, err)
	}
	revs, err := h.Store.Revisions(name)
	if err != nil {
		return store.Revision{}, err
	}
	// prev is the stored revision the file holds now: the newest with its
	// text (after a failed change that was restored, not the newest).
	var prev *store.Revision
	if existed {
		sum := store.SHA256Hex(old)
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].SHA256 == sum {
				prev = &revs[i]
				break
			}
		}
	}
	perm := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		perm = st.Mode().Perm()
	}
	if h.DryRun {
		next := 1
		if len(revs) > 0 {
			next = revs[len(revs)-1].N + 1
		}
		if existed && prev == nil {
			h.logf("save the current %s as revision %d", path, next)
			next++
		}
		h.logf("save revision %d of %s (%s, %s)", next, name, mode, reason)
		h.logf("write %s (%d bytes)", path, len(src))
		if load {
			_ = h.runner().Replace(ctx, path)
		}
		return store.Revision{N: next, Time: h.now(), Reason: reason, Mode: mode, User: h.user(), SHA256: store.SHA256Hex(src), Path: path}, nil
	}

	// Keep the file being replaced if aa-flow has no copy of it (adopted,
	// or edited by hand since).
	if existed && prev == nil {
		r, err := h.Store.SaveRevision(name, old, store.Revision{
			Time: h.now(), Reason: "found on disk before " + reason, Mode: ModeOf(old, name), User: h.user(), Path: path,
		})
		if err != nil {
			return store.Revision{}, err
		}
		prev = &r
	}
	tmpl.Time, tmpl.Mode, tmpl.User, tmpl.Path = h.now(), mode, h.user(), path
	rev, err := h.Store.SaveRevision(name, src, tmpl)
	if err != nil {
		return store.Revision{}, err
	}
	h.hook("revision")
	if err := store.WriteFileAtomicSteps(path, src, perm, func(s string) { h.hook("write:" + s) }); err != nil {
		return store.Revision{}, fmt.Errorf("install %s: %w", name, err)
	}
	h.logf("wrote %s (revision %d, %s)", path, rev.N, mode)
	h.hook("write")
	if load {
		if err := h.loadAndVerify(ctx, name, path, src); err != nil {
			return store.Revision{}, h.restore(ctx, name, path, old, perm, existed, prev, err)
		}
		h.hook("load")
	}
	if err := h.Store.AppendJournal(name, store.JournalEntry{
		Time: h.now(), Event: event, Mode: mode, Revision: rev.N, User: h.user(), Message: reason, Evidence: evidence,
	}); err != nil {
		return rev, err
	}
	h.hook("journal")
	return rev, nil
}

// loadAndVerify replaces the profile in the kernel and checks that the
// kernel lists it, and each of its children and hats it lists, in the mode
// the file's flags ask for.
func (h *Host) loadAndVerify(ctx context.Context, name, path string, src []byte) error {
	if err := h.runner().Replace(ctx, path); err != nil {
		return fmt.Errorf("load %s: %w", name, err)
	}
	h.logf("loaded %s (apparmor_parser -r -W %s)", name, path)
	want, err := Modes(src, name)
	if err != nil {
		want = map[string]string{name: ModeOf(src, name)}
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

// restore puts the previous profile file back after a failed load or
// verification and reloads it; cause is the failure. With no previous file,
// the new one is unloaded and removed so nothing half-installed stays.
func (h *Host) restore(ctx context.Context, name, path string, old []byte, perm os.FileMode, existed bool, prev *store.Revision, cause error) error {
	r := h.runner()
	if !existed {
		_ = r.Remove(ctx, path)
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w; removing the new file also failed: %v", cause, err)
		}
		_ = h.Store.AppendJournal(name, store.JournalEntry{Time: h.now(), Event: store.EventRestore, User: h.user(), Message: "removed after failure: " + cause.Error()})
		h.logf("removed %s after the failure", path)
		return fmt.Errorf("%w (the new file was removed; nothing is installed)", cause)
	}
	if err := store.WriteFileAtomic(path, old, perm); err != nil {
		return fmt.Errorf("%w; restoring the previous file also failed: %v", cause, err)
	}
	h.hook("restore-write")
	n := 0
	if prev != nil {
		n = prev.N
	}
	if err := r.Replace(ctx, path); err != nil {
		return fmt.Errorf("%w; the previous file (revision %d) was written back but reloading it failed too: %v", cause, n, err)
	}
	_ = h.Store.AppendJournal(name, store.JournalEntry{Time: h.now(), Event: store.EventRestore, Mode: ModeOf(old, name), Revision: n, User: h.user(), Message: "restored after failure: " + cause.Error()})
	h.logf("restored %s to revision %d and reloaded it", path, n)
	return fmt.Errorf("%w (restored and reloaded the previous version, revision %d)", cause, n)
}
