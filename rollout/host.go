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
	"fmt"
	"io"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
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
	// AuditStatus reads the kernel's audit status, whose count of lost
	// records is journalled at each window's start and compared by the
	// gate; kernel.ReadAuditStatus when nil.
	AuditStatus func() (kernel.AuditStatus, error)

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
// "cannot ACTION: AppArmor is not enabled ...", then hint. A dry run checks
// too: it fails where the real run would.
func (h *Host) NeedKernel(action, hint string) error {
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
