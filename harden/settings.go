// Package harden judges a container's confinement settings against the
// hardening runbook and lesson: one item per layer (AppArmor, seccomp,
// privileged, no-new-privileges, capabilities, read-only root, user, pids,
// memory, the Docker socket, user namespaces), each passed or failed with
// the fix. It reads `docker inspect` JSON and Compose files; it runs nothing.
package harden

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ErrInput marks input that is not what the reader expects (not docker
// inspect JSON, not a Compose file, a field of the wrong type).
var ErrInput = errors.New("unreadable container settings")

// Seccomp is how a container's seccomp filter is set.
type Seccomp string

// The seccomp settings Check tells apart.
const (
	SeccompDefault    Seccomp = "default"    // no seccomp option: Docker's default profile
	SeccompUnconfined Seccomp = "unconfined" // seccomp=unconfined
	SeccompCustom     Seccomp = "custom"     // a profile of its own
)

// Mount is one mount into the container, by source on the host.
type Mount struct {
	Type        string `json:"type,omitempty"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
}

// Settings is one container's confinement as Check needs it, from
// whichever reader built it. A pointer field is nil when the input cannot
// say.
type Settings struct {
	Name   string `json:"name"`
	Origin string `json:"origin"` // "docker inspect" or "compose FILE"
	// AppArmor is the profile the container runs under: docker inspect's
	// AppArmorProfile, or the apparmor security option. Empty when unset.
	AppArmor string `json:"apparmor"`
	// AppArmorNamed is true when the profile was asked for by name
	// (--security-opt apparmor=NAME), not chosen by the engine.
	AppArmorNamed bool    `json:"apparmor_named"`
	Seccomp       Seccomp `json:"seccomp"`
	// SeccompProfile is the custom profile: the inlined JSON docker
	// inspect shows, or the path a Compose file names.
	SeccompProfile  string   `json:"seccomp_profile,omitempty"`
	NoNewPrivileges bool     `json:"no_new_privileges"`
	Privileged      bool     `json:"privileged"`
	CapAdd          []string `json:"cap_add"`
	CapDrop         []string `json:"cap_drop"`
	ReadonlyRootfs  bool     `json:"read_only_rootfs"`
	// User is the user the main process runs as; UserKnown is false when
	// the input cannot see it (a Compose file without user: cannot see the
	// image's USER).
	User      string  `json:"user"`
	UserKnown bool    `json:"user_known"`
	PidsLimit int64   `json:"pids_limit"` // 0 or less: no limit
	Memory    int64   `json:"memory"`     // bytes, 0: no limit
	MemorySet bool    `json:"memory_set"` // a limit is set (Compose gives strings such as 512m)
	Mounts    []Mount `json:"mounts"`
	// UsernsMode is the container's user-namespace mode ("host" opts out
	// of the daemon's remapping).
	UsernsMode string `json:"userns_mode,omitempty"`
	// PID is the main process on this host (0 when not running or not
	// known), so the kernel can be asked for its label.
	PID int `json:"pid,omitempty"`
}

// inspect is the part of one `docker inspect` object Check reads. The
// field names are the Engine API's (ContainerJSON, HostConfig, Config).
type inspect struct {
	Name            string `json:"Name"`
	ID              string `json:"Id"`
	AppArmorProfile string `json:"AppArmorProfile"`
	State           *struct {
		Pid int `json:"Pid"`
	} `json:"State"`
	Config *struct {
		User string `json:"User"`
	} `json:"Config"`
	HostConfig *struct {
		Privileged     bool     `json:"Privileged"`
		SecurityOpt    []string `json:"SecurityOpt"`
		CapAdd         []string `json:"CapAdd"`
		CapDrop        []string `json:"CapDrop"`
		ReadonlyRootfs bool     `json:"ReadonlyRootfs"`
		PidsLimit      *int64   `json:"PidsLimit"`
		Memory         int64    `json:"Memory"`
		UsernsMode     string   `json:"UsernsMode"`
		Binds          []string `json:"Binds"`
	} `json:"HostConfig"`
	Mounts []struct {
		Type        string `json:"Type"`
		Source      string `json:"Source"`
		Destination string `json:"Destination"`
	} `json:"Mounts"`
}

// FromInspect reads the JSON array `docker inspect` prints (one object per
// container; a single object is accepted too).
func FromInspect(data []byte) ([]Settings, error) {
	var list []inspect
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		var one inspect
		if err := json.Unmarshal(data, &one); err != nil {
			return nil, fmt.Errorf("%w: docker inspect JSON: %w", ErrInput, err)
		}
		list = []inspect{one}
	} else if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%w: docker inspect JSON: %w", ErrInput, err)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: docker inspect JSON holds no container", ErrInput)
	}
	out := make([]Settings, 0, len(list))
	for i, c := range list {
		if c.HostConfig == nil || c.Config == nil {
			return nil, fmt.Errorf("%w: docker inspect object %d (%q) has no HostConfig or Config: is it a container?", ErrInput, i, c.Name)
		}
		s := Settings{
			Name:           strings.TrimPrefix(c.Name, "/"),
			Origin:         "docker inspect",
			AppArmor:       c.AppArmorProfile,
			Privileged:     c.HostConfig.Privileged,
			CapAdd:         c.HostConfig.CapAdd,
			CapDrop:        c.HostConfig.CapDrop,
			ReadonlyRootfs: c.HostConfig.ReadonlyRootfs,
			User:           c.Config.User,
			UserKnown:      true,
			Memory:         c.HostConfig.Memory,
			MemorySet:      c.HostConfig.Memory > 0,
			UsernsMode:     c.HostConfig.UsernsMode,
		}
		if s.Name == "" {
			s.Name = c.ID
		}
		if c.State != nil {
			s.PID = c.State.Pid
		}
		if c.HostConfig.PidsLimit != nil {
			s.PidsLimit = *c.HostConfig.PidsLimit
		}
		if err := s.securityOpts(c.HostConfig.SecurityOpt); err != nil {
			return nil, fmt.Errorf("%w: container %q: %w", ErrInput, s.Name, err)
		}
		for _, m := range c.Mounts {
			s.Mounts = append(s.Mounts, Mount{Type: m.Type, Source: m.Source, Destination: m.Destination})
		}
		if len(c.Mounts) == 0 {
			// A stopped container created long ago may list binds only.
			for _, b := range c.HostConfig.Binds {
				s.Mounts = append(s.Mounts, bindMount(b))
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// bindMount splits a bind in the short form SRC:DST[:OPTS].
func bindMount(b string) Mount {
	parts := strings.SplitN(b, ":", 3)
	m := Mount{Type: "bind", Source: parts[0]}
	if len(parts) > 1 {
		m.Destination = parts[1]
	}
	return m
}

// securityOpts reads the security options, in either spelling
// (apparmor=NAME as docker run takes it, apparmor:NAME as Compose files
// often write it). docker inspect shows the AppArmor profile in use in
// AppArmorProfile too; the option says it was asked for by name.
func (s *Settings) securityOpts(opts []string) error {
	s.Seccomp = SeccompDefault
	for _, o := range opts {
		k, v, ok := strings.Cut(o, "=")
		if i := strings.IndexByte(o, ':'); i >= 0 && (!ok || i < len(k)) {
			k, v, ok = o[:i], o[i+1:], true
		}
		switch strings.TrimSpace(k) {
		case "apparmor":
			s.AppArmor, s.AppArmorNamed = strings.TrimSpace(v), true
		case "seccomp":
			switch v = strings.TrimSpace(v); v {
			case "unconfined":
				s.Seccomp = SeccompUnconfined
			case "", "builtin":
				s.Seccomp = SeccompDefault
			default:
				s.Seccomp, s.SeccompProfile = SeccompCustom, v
			}
		case "no-new-privileges":
			if !ok || v == "true" || v == "" {
				s.NoNewPrivileges = true
			} else if v == "false" {
				s.NoNewPrivileges = false
			} else {
				return fmt.Errorf("security option %q: no-new-privileges takes true or false", o)
			}
		}
	}
	return nil
}

// SecurityOptsFromInspect returns each container's HostConfig.SecurityOpt
// from docker inspect JSON, by name, in input order of the names.
func SecurityOptsFromInspect(data []byte) (map[string][]string, error) {
	var list []inspect
	if err := json.Unmarshal(data, &list); err != nil {
		return nil, fmt.Errorf("%w: docker inspect JSON: %w", ErrInput, err)
	}
	out := map[string][]string{}
	for i, c := range list {
		if c.HostConfig == nil {
			return nil, fmt.Errorf("%w: docker inspect object %d has no HostConfig", ErrInput, i)
		}
		out[strings.TrimPrefix(c.Name, "/")] = c.HostConfig.SecurityOpt
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: docker inspect JSON holds no container", ErrInput)
	}
	return out, nil
}
