package harden

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/aa-flow/aa-flow/seccomp"
)

// Status is one item's verdict.
type Status string

// The verdicts. Only Fail makes a container fail; Warn is a pass with a
// caveat, Unknown says the input or the host could not tell.
const (
	Pass    Status = "pass"
	Warn    Status = "warn"
	Fail    Status = "fail"
	Unknown Status = "unknown"
)

// Item is one line of the checklist.
type Item struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Required bool   `json:"required"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
}

// Report is the checklist of one container.
type Report struct {
	Name   string `json:"name"`
	Origin string `json:"origin"`
	Items  []Item `json:"items"`
	// OK is true when no required item failed or stayed unknown.
	OK bool `json:"ok"`
}

// Host is what the local host can add to the settings. Each function may
// be nil when the host cannot be asked.
type Host struct {
	// ProfileMode returns the mode the kernel reports for a loaded
	// AppArmor profile; loaded is false when it is not loaded, err non-nil
	// when the kernel cannot be asked.
	ProfileMode func(name string) (mode string, loaded bool, err error)
	// UsernsRemap reports whether the daemon remaps user namespaces
	// (docker info's SecurityOptions hold name=userns); known is false when
	// it cannot say.
	UsernsRemap func() (on bool, known bool)
}

// dockerSockets are the host paths whose mount hands the container the
// Docker engine: the socket itself or a directory that holds it.
var dockerSockets = map[string]bool{
	"/var/run/docker.sock": true, "/run/docker.sock": true,
	"/var/run": true, "/run": true, "/": true,
}

// Check judges one container's settings, item by item, in the order of
// the runbook and the lesson.
func Check(s Settings, h Host) Report {
	r := Report{Name: s.Name, Origin: s.Origin}
	add := func(it Item) { r.Items = append(r.Items, it) }
	add(checkAppArmor(s, h))
	add(checkSeccomp(s))
	add(checkPrivileged(s))
	add(checkNoNewPrivileges(s))
	add(checkCaps(s))
	add(checkReadOnly(s))
	add(checkUser(s))
	add(checkPids(s))
	add(checkMemory(s))
	add(checkSocket(s))
	add(checkUserns(s, h))
	r.OK = true
	for _, it := range r.Items {
		if it.Required && it.Status != Pass && it.Status != Warn {
			r.OK = false
		}
	}
	return r
}

func checkAppArmor(s Settings, h Host) Item {
	it := Item{ID: "apparmor", Title: "AppArmor profile named for the application", Required: true,
		Fix: "aa-flow init NAME --template container, then run with --security-opt apparmor=NAME (Compose: security_opt: [apparmor=NAME])"}
	switch {
	case s.Privileged && !s.AppArmorNamed:
		it.Status, it.Detail = Fail, "--privileged runs without AppArmor"
		return it
	case s.AppArmor == "":
		it.Status, it.Detail = Fail, "no AppArmor profile"
		return it
	case s.AppArmor == "unconfined":
		it.Status, it.Detail = Fail, "apparmor=unconfined: no AppArmor confinement"
		return it
	case s.AppArmor == "docker-default":
		it.Status, it.Detail = Fail, "docker-default: the engine's generic baseline, not a profile for this application"
		return it
	}
	it.Detail = s.AppArmor
	it.Status = Pass
	if h.ProfileMode == nil {
		it.Detail += " (the kernel was not asked)"
		return it
	}
	mode, loaded, err := h.ProfileMode(s.AppArmor)
	switch {
	case err != nil:
		it.Detail += " (the kernel cannot be asked: " + err.Error() + ")"
	case !loaded:
		it.Status, it.Detail = Fail, s.AppArmor+" is not loaded in this kernel: the container cannot start with it"
		it.Fix = "sudo apparmor_parser -r -W /etc/apparmor.d/" + s.AppArmor + " (or aa-flow init " + s.AppArmor + " --template container)"
	case mode == "enforce":
		it.Detail += " (enforce)"
	default:
		it.Status, it.Detail = Fail, s.AppArmor+" is loaded in "+mode+" mode: it logs but denies nothing"
		it.Fix = "aa-flow learn " + s.AppArmor + " under the real workload, then aa-flow enforce " + s.AppArmor
	}
	return it
}

func checkSeccomp(s Settings) Item {
	it := Item{ID: "seccomp", Title: "seccomp filter", Required: true}
	switch {
	case s.Privileged:
		it.Status, it.Detail = Fail, "--privileged runs without seccomp"
		it.Fix = "drop --privileged"
	case s.Seccomp == SeccompUnconfined:
		it.Status, it.Detail = Fail, "seccomp=unconfined: no syscall filter at all"
		it.Fix = "remove seccomp=unconfined (the default is the baseline), or learn a profile: aa-flow seccomp init NAME"
	case s.Seccomp == SeccompCustom:
		it.Status, it.Detail = Pass, "a custom profile"
		inline := strings.TrimSpace(s.SeccompProfile)
		if !strings.HasPrefix(inline, "{") {
			it.Detail += " (" + s.SeccompProfile + ")"
			break
		}
		p, err := seccomp.Parse([]byte(inline))
		if err != nil {
			it.Status, it.Detail = Unknown, "a custom profile aa-flow cannot read: "+err.Error()
			break
		}
		if p.DefaultAction == seccomp.ActLog || len(p.Names(seccomp.ActLog)) > 0 {
			it.Status, it.Detail = Warn, "a learning profile: the calls it allows are logged, and refused no more than by the default"
			it.Fix = "aa-flow seccomp learn NAME, then aa-flow seccomp enforce NAME, and recreate the container"
			break
		}
		it.Detail = fmt.Sprintf("a custom profile allowing %d syscalls", len(p.Names(seccomp.ActAllow)))
	default:
		it.Status, it.Detail = Warn, "Docker's default profile: the baseline, not narrowed to the application"
		it.Fix = "learn an allow-list: aa-flow seccomp init NAME, run the workload, aa-flow seccomp learn NAME"
	}
	return it
}

func checkPrivileged(s Settings) Item {
	it := Item{ID: "privileged", Title: "not --privileged", Required: true, Status: Pass, Detail: "not privileged"}
	if s.Privileged {
		it.Status, it.Detail = Fail, "--privileged: every capability, all devices, no AppArmor or seccomp"
		it.Fix = "drop --privileged (Compose: privileged: false); add only the capabilities it needs"
	}
	return it
}

func checkNoNewPrivileges(s Settings) Item {
	it := Item{ID: "no-new-privileges", Title: "no-new-privileges", Required: true, Status: Pass, Detail: "set"}
	if !s.NoNewPrivileges {
		it.Status, it.Detail = Fail, "not set: setuid binaries can still raise privileges"
		it.Fix = "--security-opt no-new-privileges (Compose: security_opt: [no-new-privileges:true])"
	}
	return it
}

func checkCaps(s Settings) Item {
	it := Item{ID: "cap-drop", Title: "--cap-drop ALL, with the adds listed", Required: true}
	adds := normCaps(s.CapAdd)
	dropAll := slices.Contains(normCaps(s.CapDrop), "ALL")
	addList := "no adds"
	if len(adds) > 0 {
		addList = "adds " + strings.Join(adds, ", ")
	}
	switch {
	case slices.Contains(adds, "ALL"):
		it.Status, it.Detail = Fail, "--cap-add ALL: every capability"
		it.Fix = "--cap-drop ALL and add back only what the application needs (e.g. --cap-add NET_BIND_SERVICE)"
	case s.Privileged:
		it.Status, it.Detail = Fail, "--privileged holds every capability"
		it.Fix = "drop --privileged; --cap-drop ALL"
	case !dropAll:
		it.Status, it.Detail = Fail, "the engine's default capabilities are kept ("+addList+")"
		it.Fix = "--cap-drop ALL and add back only what the application needs (Compose: cap_drop: [ALL])"
	default:
		it.Status, it.Detail = Pass, "ALL dropped, "+addList
	}
	return it
}

// normCaps spells capabilities as docker does in messages: upper case,
// without the CAP_ prefix, sorted.
func normCaps(cs []string) []string {
	out := make([]string, 0, len(cs))
	for _, c := range cs {
		c = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
		if c != "" {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func checkReadOnly(s Settings) Item {
	it := Item{ID: "read-only", Title: "read-only root filesystem", Required: true, Status: Pass, Detail: "read-only"}
	if !s.ReadonlyRootfs {
		it.Status, it.Detail = Fail, "the root filesystem is writable"
		it.Fix = "--read-only with --tmpfs /tmp for scratch space (Compose: read_only: true, tmpfs: [/tmp])"
	}
	return it
}

func checkUser(s Settings) Item {
	it := Item{ID: "user", Title: "non-root user", Required: true,
		Fix: "--user appuser (or USER in the image; Compose: user: appuser)"}
	u := strings.TrimSpace(s.User)
	name, _, _ := strings.Cut(u, ":")
	switch {
	case !s.UserKnown:
		it.Status, it.Detail = Unknown, "no user: here, and the image's USER cannot be seen from "+s.Origin
		it.Fix = "set user: in the Compose file, or check the running container: aa-flow check CONTAINER"
	case u == "" || name == "root" || name == "0":
		it.Status, it.Detail = Fail, "runs as root"
		if u != "" {
			it.Detail += " (" + u + ")"
		}
	default:
		it.Status, it.Detail = Pass, u
	}
	return it
}

func checkPids(s Settings) Item {
	it := Item{ID: "pids-limit", Title: "--pids-limit set", Required: true}
	if s.PidsLimit > 0 {
		it.Status, it.Detail = Pass, strconv.FormatInt(s.PidsLimit, 10)
		return it
	}
	it.Status, it.Detail = Fail, "no limit: a fork bomb can exhaust the host's process table"
	it.Fix = "--pids-limit 100 (Compose: pids_limit: 100)"
	return it
}

func checkMemory(s Settings) Item {
	it := Item{ID: "memory", Title: "memory limit", Required: true}
	switch {
	case s.Memory > 0:
		it.Status, it.Detail = Pass, formatBytes(s.Memory)
	case s.MemorySet:
		it.Status, it.Detail = Pass, "set"
	default:
		it.Status, it.Detail = Fail, "no limit: the container can take the host's memory"
		it.Fix = "--memory 512m --memory-swap 512m (Compose: mem_limit: 512m)"
	}
	return it
}

func formatBytes(b int64) string {
	for _, u := range []struct {
		n    int64
		name string
	}{{1 << 30, "g"}, {1 << 20, "m"}, {1 << 10, "k"}} {
		if b%u.n == 0 {
			return strconv.FormatInt(b/u.n, 10) + u.name
		}
	}
	return strconv.FormatInt(b, 10) + " bytes"
}

func checkSocket(s Settings) Item {
	it := Item{ID: "docker-socket", Title: "Docker socket not mounted", Required: true, Status: Pass, Detail: "not mounted"}
	for _, m := range s.Mounts {
		if m.Type == "volume" {
			continue
		}
		src := path.Clean(m.Source)
		if dockerSockets[src] || path.Base(src) == "docker.sock" {
			it.Status, it.Detail = Fail, src+" is mounted at "+m.Destination+": control of the engine is root on the host"
			it.Fix = "remove the mount; a tool that must talk to the engine belongs outside the container or behind an authorising proxy"
			return it
		}
	}
	return it
}

func checkUserns(s Settings, h Host) Item {
	it := Item{ID: "userns", Title: "user-namespace remapping", Required: false,
		Fix: `"userns-remap": "default" in /etc/docker/daemon.json, then restart the engine (affects every container: try it off production first)`}
	if s.UsernsMode == "host" {
		it.Status, it.Detail = Warn, "--userns=host opts this container out of remapping"
		it.Fix = "drop --userns=host"
		return it
	}
	if h.UsernsRemap == nil {
		it.Status, it.Detail, it.Fix = Unknown, "docker info was not asked", ""
		return it
	}
	on, known := h.UsernsRemap()
	switch {
	case !known:
		it.Status, it.Detail, it.Fix = Unknown, "docker info does not say", ""
	case on:
		it.Status, it.Detail, it.Fix = Pass, "the engine remaps container root to an unprivileged host user", ""
	default:
		it.Status, it.Detail = Warn, "off: root in the container is root on the host"
	}
	return it
}
