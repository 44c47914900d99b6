// Package doctor checks whether a host is ready for aa-flow: the parser and
// its abi files, securityfs and AppArmor in the kernel, the kernel's
// feature ABI, the log aa-flow would read and whether it can prove its
// records came from the kernel, and the profile and state directories'
// ownership. Each check says what it found and, when it fails, the fix.
// It only reads.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/store"
)

// Check is the verdict on one thing aa-flow needs.
type Check struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Required is set when aa-flow cannot do its job while the check
	// fails; the others make it less sure or less convenient.
	Required bool   `json:"required"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
}

// LogSource is the log aa-flow would read records from when no --from is
// given, and whether it can prove a line came from the kernel.
type LogSource struct {
	Kind    string // auditd, journald, syslog, kmsg
	Name    string // the file, or journald
	Why     string // why this one
	Trusted bool
}

// Host is what the checks look at.
type Host struct {
	Parser     string // the apparmor_parser binary, looked up on PATH
	ABIDir     string // the parser's abi files (/etc/apparmor.d/abi)
	ProfileDir string
	StateDir   string
	Securityfs string
	// LogSource finds the log aa-flow would read.
	LogSource func() (LogSource, error)
}

// Run makes every check, in the order a person fixes them.
func Run(ctx context.Context, h Host) []Check {
	k := &kernel.FS{Securityfs: h.Securityfs}
	return []Check{
		parser(ctx, h),
		abiFiles(h),
		securityfs(h),
		apparmor(k),
		abi(k, h),
		logSource(h),
		directory("profile directory", h.ProfileDir, false),
		directory("state directory", h.StateDir, true),
	}
}

// Failed returns the checks that failed; required, only the required ones.
func Failed(cs []Check, required bool) []Check {
	var out []Check
	for _, c := range cs {
		if !c.OK && (c.Required || !required) {
			out = append(out, c)
		}
	}
	return out
}

func parser(ctx context.Context, h Host) Check {
	c := Check{Name: "parser", Required: true}
	path, err := exec.LookPath(h.Parser)
	if err != nil {
		c.Detail = fmt.Sprintf("%s not found", h.Parser)
		c.Fix = "apt install apparmor (or --parser PATH)"
		return c
	}
	v, err := (&aaparser.Runner{Path: path}).Version(ctx)
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "apt install --reinstall apparmor (or --parser PATH to a working apparmor_parser)"
		return c
	}
	c.OK, c.Detail = true, fmt.Sprintf("apparmor_parser %s (%s)", v, path)
	return c
}

func abiFiles(h Host) Check {
	c := Check{Name: "abi files", Required: true}
	ents, err := os.ReadDir(h.ABIDir)
	var names []string
	for _, e := range ents {
		if !e.IsDir() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	if err != nil || len(names) == 0 {
		c.Detail = fmt.Sprintf("no abi files in %s: profiles that pin abi <abi/3.0> cannot compile", h.ABIDir)
		c.Fix = "apt install --reinstall apparmor (it ships " + h.ABIDir + "/)"
		return c
	}
	c.OK, c.Detail = true, fmt.Sprintf("%s: %s", h.ABIDir, strings.Join(names, ", "))
	return c
}

func securityfs(h Host) Check {
	c := Check{Name: "securityfs", Required: true}
	ents, err := os.ReadDir(h.Securityfs)
	if err != nil || len(ents) == 0 {
		c.Detail = fmt.Sprintf("not mounted at %s", h.Securityfs)
		c.Fix = "mount -t securityfs securityfs " + h.Securityfs + " (systemd mounts it at boot)"
		return c
	}
	c.OK, c.Detail = true, "mounted at "+h.Securityfs
	return c
}

func apparmor(k *kernel.FS) Check {
	c := Check{Name: "AppArmor", Required: true}
	lsm := ""
	if b, err := os.ReadFile(filepath.Join(k.Securityfs, "lsm")); err == nil {
		lsm = strings.TrimSpace(string(b))
	}
	if err := k.Available(); err != nil {
		c.Detail = err.Error()
		if lsm != "" {
			c.Detail += " (active security modules: " + lsm + ")"
		}
		c.Fix = "boot with apparmor=1 and apparmor in lsm= (Debian's kernel enables it by default); apt install apparmor"
		return c
	}
	ps, err := k.Profiles()
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "run aa-flow doctor as root"
		return c
	}
	c.OK, c.Detail = true, fmt.Sprintf("enabled, %d profiles loaded", len(ps))
	if lsm != "" {
		c.Detail += " (security modules: " + lsm + ")"
	}
	return c
}

func abi(k *kernel.FS, h Host) Check {
	c := Check{Name: "kernel ABI"}
	f, err := k.Features()
	if errors.Is(err, kernel.ErrNoAppArmor) {
		c.Detail = "unknown without AppArmor (" + k.FeaturesPath() + ")"
		c.Fix = "enable AppArmor first (see above)"
		return c
	}
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "run aa-flow doctor as root"
		return c
	}
	a, err := kernel.MatchABI(f, h.ABIDir)
	if err != nil {
		c.Detail = err.Error()
		return c
	}
	c.Detail = a.String()
	if a.Covers == "" {
		c.Detail += ": the kernel lacks features of every abi file in " + h.ABIDir
		c.Fix = "update the kernel, or pin the profiles to an abi the kernel has (see aa-flow version)"
		return c
	}
	c.OK = true
	return c
}

func logSource(h Host) Check {
	c := Check{Name: "log source", Required: true}
	s, err := h.LogSource()
	if err != nil {
		c.Detail = err.Error()
		c.Fix = "apt install auditd (records go to /var/log/audit/audit.log), or name a log with --from"
		return c
	}
	c.Detail = fmt.Sprintf("%s: %s (%s)", s.Kind, s.Name, s.Why)
	if !s.Trusted {
		c.Required = false
		c.Detail += "; a syslog file cannot prove a line came from the kernel: only lines tagged kernel: are read, and any local user can write such a line"
		c.Fix = "apt install auditd (the kernel's records then go to /var/log/audit/audit.log), or read the journal's kernel transport"
		return c
	}
	c.OK = true
	c.Detail += "; its records are proven to come from the kernel"
	return c
}

// directory checks a directory aa-flow reads policy or state from: owned
// by root, not writable by group or others. A missing state directory is
// fine (init makes it, private) when its parent is safe.
func directory(name, dir string, mayBeMissing bool) Check {
	c := Check{Name: name, Required: true}
	err := store.CheckSafe(dir)
	if mayBeMissing && errors.Is(err, fs.ErrNotExist) {
		parent := filepath.Dir(dir)
		if perr := store.CheckSafe(parent); perr != nil {
			c.Detail = fmt.Sprintf("%s does not exist yet and its parent is unsafe: %v", dir, perr)
			c.Fix = fixOwner(parent)
			return c
		}
		c.OK, c.Detail = true, dir+" does not exist yet; aa-flow init creates it (mode 0700)"
		return c
	}
	if errors.Is(err, fs.ErrNotExist) {
		c.Detail = dir + " does not exist"
		c.Fix = "apt install apparmor (or --profile-dir DIR)"
		return c
	}
	if err != nil {
		c.Detail = err.Error()
		c.Fix = fixOwner(dir)
		return c
	}
	fi, _ := os.Stat(dir)
	c.OK, c.Detail = true, fmt.Sprintf("%s (mode %04o, not writable by others)", dir, fi.Mode().Perm())
	return c
}

func fixOwner(dir string) string {
	return fmt.Sprintf("chown root:root %s && chmod go-w %s", dir, dir)
}
