// Package rollouttest is a stand-in for the kernel side of apparmor_parser,
// for tests: validation runs the real parser, while loading (-r), removal
// (-R) and the kernel's profile list are simulated in a fake securityfs, the
// way the kernel would report them.
package rollouttest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
)

// Kernel is a fake AppArmor kernel behind a fake securityfs.
type Kernel struct {
	// Securityfs is the fake securityfs root; apparmor/profiles lives under it.
	Securityfs string
	// ModeOf says which mode a loaded profile file asks for, per profile
	// name as apparmor_parser -N lists them (parent//child for children
	// and hats).
	ModeOf func(src []byte, name string) string
	// StuckMode, when set, is the mode every load leaves in the kernel,
	// whatever the file says (a kernel that ignores the flip).
	StuckMode string
	// StuckModes is StuckMode per profile name (parent//child for a hat).
	StuckModes map[string]string
	// FailLoad, when set, makes every load fail with this message.
	FailLoad string
	// AuditLog is where the kernel's records go (in auditd's form): each
	// load appends the STATUS record the kernel logs for each profile
	// loaded or replaced. New sets it to DIR/audit.log; "" logs nothing.
	AuditLog string

	mu     sync.Mutex
	loaded map[string]string
	calls  [][]string
}

// New makes a fake kernel under dir, with the profiles its profile list
// already holds (none for a new directory), so that several processes can
// share one fake kernel.
func New(dir string, modeOf func([]byte, string) string) (*Kernel, error) {
	k := &Kernel{Securityfs: dir, ModeOf: modeOf, loaded: map[string]string{}, AuditLog: filepath.Join(dir, "audit.log")}
	if err := os.MkdirAll(filepath.Join(dir, "apparmor"), 0o755); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, "apparmor", "profiles"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	ps, err := kernel.ParseProfiles(b)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		k.loaded[p.Name] = p.Mode
	}
	return k, k.flush()
}

// Calls returns the apparmor_parser invocations that changed the kernel, each
// as its argument list without -I options.
func (k *Kernel) Calls() [][]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]string(nil), k.calls...)
}

// Loaded returns the loaded profiles and their modes.
func (k *Kernel) Loaded() map[string]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := map[string]string{}
	for n, m := range k.loaded {
		out[n] = m
	}
	return out
}

func (k *Kernel) flush() error {
	names := make([]string, 0, len(k.loaded))
	for n := range k.loaded {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%s (%s)\n", n, k.loaded[n])
	}
	return os.WriteFile(filepath.Join(k.Securityfs, "apparmor", "profiles"), []byte(b.String()), 0o644)
}

// logLoads appends the kernel's record of each load to AuditLog, as the
// kernel logs it: apparmor="STATUS" operation="profile_load" (or
// "profile_replace" for a profile already loaded) name=NAME, stamped now,
// with the next serial after the log's last line.
func (k *Kernel) logLoads(profs []string) error {
	if k.AuditLog == "" {
		return nil
	}
	old, err := os.ReadFile(k.AuditLog)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	serial := 9000 + strings.Count(string(old), "\n")
	var b strings.Builder
	now := time.Now()
	for _, p := range profs {
		op := "profile_load"
		if _, ok := k.loaded[p]; ok {
			op = "profile_replace"
		}
		serial++
		fmt.Fprintf(&b, "type=AVC msg=audit(%d.%03d:%d): apparmor=\"STATUS\" operation=\"%s\" profile=\"unconfined\" name=\"%s\" pid=%d comm=\"apparmor_parser\"\n",
			now.Unix(), now.Nanosecond()/1e6, serial, op, p, os.Getpid())
	}
	f, err := os.OpenFile(k.AuditLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(b.String())
	return errors.Join(err, f.Close())
}

// Exec is an aaparser.Exec: compile-only runs go to the real parser; -r and
// -R are simulated.
func (k *Kernel) Exec(ctx context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
	var incs, rest []string
	for i := 0; i < len(args); i++ {
		if args[i] == "-I" && i+1 < len(args) {
			incs = append(incs, "-I", args[i+1])
			i++
			continue
		}
		rest = append(rest, args[i])
	}
	op, complain := "", false
	for _, a := range rest {
		switch a {
		case "-r", "-R":
			op = a
		case "-C", "--Complain":
			complain = true // every profile of the file in complain mode
		}
	}
	if op == "" {
		return aaparser.SystemExec(ctx, name, args, stdin)
	}
	file := rest[len(rest)-1]
	k.mu.Lock()
	k.calls = append(k.calls, rest)
	k.mu.Unlock()
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, []byte(err.Error()), err
	}
	// The real parser lists the file's profiles (and validates it).
	out, stderr, err := aaparser.SystemExec(ctx, name, append(append([]string{}, incs...), "-N", file), nil)
	if err != nil {
		return out, stderr, err
	}
	var profs []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			profs = append(profs, l)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if op == "-R" {
		for _, p := range profs {
			delete(k.loaded, p)
		}
		return nil, nil, k.flush()
	}
	if k.FailLoad != "" {
		return nil, []byte(k.FailLoad + "\n"), errors.New("exit status 1")
	}
	if err := k.logLoads(profs); err != nil {
		return nil, nil, err
	}
	for _, p := range profs {
		// Each profile, child and hat has its own mode: apparmor_parser
		// does not carry a parent's complain flag over to its hats.
		mode := k.ModeOf(src, p)
		if complain {
			mode = "complain"
		}
		if k.StuckMode != "" {
			mode = k.StuckMode
		}
		if m, ok := k.StuckModes[p]; ok {
			mode = m
		}
		k.loaded[p] = mode
	}
	return nil, nil, k.flush()
}
