// Package kernel reads what the running kernel says about AppArmor: the
// loaded profiles and their modes (securityfs apparmor/profiles), the
// confinement of each process (/proc/PID/attr/current), and the audit
// subsystem's status (its count of lost records, over the audit netlink
// socket: ReadAuditStatus). It only reads.
package kernel

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrNoAppArmor means the kernel has no AppArmor (or securityfs is not
// mounted where FS looks).
var ErrNoAppArmor = errors.New("AppArmor is not enabled in this kernel")

// FS reads one host's securityfs and procfs.
type FS struct {
	// Securityfs is where securityfs is mounted; /sys/kernel/security when
	// empty.
	Securityfs string
	// Proc is where procfs is mounted; /proc when empty.
	Proc string
}

func (k *FS) secfs() string {
	if k == nil || k.Securityfs == "" {
		return "/sys/kernel/security"
	}
	return k.Securityfs
}

func (k *FS) proc() string {
	if k == nil || k.Proc == "" {
		return "/proc"
	}
	return k.Proc
}

// ProfilesPath is the kernel's list of loaded profiles.
func (k *FS) ProfilesPath() string { return filepath.Join(k.secfs(), "apparmor", "profiles") }

// Available returns nil when AppArmor is enabled, or an error wrapping
// ErrNoAppArmor that says what is missing.
func (k *FS) Available() error {
	p := k.ProfilesPath()
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w (no %s): is securityfs mounted and apparmor=1 on the kernel command line?", ErrNoAppArmor, p)
		}
		return fmt.Errorf("%w: %v", ErrNoAppArmor, err)
	}
	return nil
}

// Profile is one loaded profile as the kernel lists it.
type Profile struct {
	Name string `json:"name"`
	Mode string `json:"mode"` // enforce, complain, kill, unconfined, ...
}

// ParseProfiles reads the kernel's profile list: one "NAME (MODE)" a line.
// Names may hold spaces; the mode is the last parenthesised word.
func ParseProfiles(data []byte) ([]Profile, error) {
	var out []Profile
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimRight(sc.Text(), " \t")
		if l == "" {
			continue
		}
		p, ok := parseLabel(l)
		if !ok {
			return nil, fmt.Errorf("profiles line %d: %q is not NAME (MODE)", n, l)
		}
		out = append(out, p)
	}
	return out, sc.Err()
}

// parseLabel splits "NAME (MODE)" into its parts.
func parseLabel(l string) (Profile, bool) {
	i := strings.LastIndex(l, " (")
	if i <= 0 || !strings.HasSuffix(l, ")") {
		return Profile{}, false
	}
	return Profile{Name: l[:i], Mode: l[i+2 : len(l)-1]}, true
}

// Profiles returns the loaded profiles.
func (k *FS) Profiles() ([]Profile, error) {
	if err := k.Available(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(k.ProfilesPath())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", k.ProfilesPath(), err)
	}
	ps, err := ParseProfiles(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", k.ProfilesPath(), err)
	}
	return ps, nil
}

// Mode returns the mode the kernel reports for a loaded profile; loaded is
// false when the kernel does not have it.
func (k *FS) Mode(name string) (mode string, loaded bool, err error) {
	ps, err := k.Profiles()
	if err != nil {
		return "", false, err
	}
	for _, p := range ps {
		if p.Name == name {
			return p.Mode, true, nil
		}
	}
	return "", false, nil
}

// Process is one process and the label confining it.
type Process struct {
	PID   int    `json:"pid"`
	Comm  string `json:"comm"`
	Label string `json:"label"` // the profile (or stack), "unconfined" when none
	Mode  string `json:"mode,omitempty"`
}

// Processes returns every process with its confinement, by pid. Processes
// that vanish while being read are skipped.
func (k *FS) Processes() ([]Process, error) {
	ents, err := os.ReadDir(k.proc())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", k.proc(), err)
	}
	var out []Process
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		dir := filepath.Join(k.proc(), e.Name())
		cur, err := os.ReadFile(filepath.Join(dir, "attr", "apparmor", "current"))
		if err != nil {
			cur, err = os.ReadFile(filepath.Join(dir, "attr", "current"))
		}
		if err != nil {
			continue
		}
		l := strings.TrimRight(string(bytes.TrimRight(cur, "\x00")), "\n ")
		p := Process{PID: pid, Label: l}
		if lp, ok := parseLabel(l); ok {
			p.Label, p.Mode = lp.Name, lp.Mode
		}
		if c, err := os.ReadFile(filepath.Join(dir, "comm")); err == nil {
			p.Comm = strings.TrimSpace(string(c))
		}
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out, nil
}

// ConfinedBy returns the processes whose label is name or a child of it
// (name//hat).
func ConfinedBy(ps []Process, name string) []Process {
	var out []Process
	for _, p := range ps {
		if p.Label == name || strings.HasPrefix(p.Label, name+"//") {
			out = append(out, p)
		}
	}
	return out
}
