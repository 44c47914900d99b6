package harden

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// composeFile is the part of a Compose file Check reads (the Compose
// Specification's service keys).
type composeFile struct {
	Services map[string]composeService `yaml:"services"`
}

type composeService struct {
	Privileged  bool            `yaml:"privileged"`
	SecurityOpt []string        `yaml:"security_opt"`
	CapAdd      []string        `yaml:"cap_add"`
	CapDrop     []string        `yaml:"cap_drop"`
	ReadOnly    bool            `yaml:"read_only"`
	User        yaml.Node       `yaml:"user"`
	PidsLimit   yaml.Node       `yaml:"pids_limit"`
	MemLimit    yaml.Node       `yaml:"mem_limit"`
	UsernsMode  string          `yaml:"userns_mode"`
	Volumes     []composeVolume `yaml:"volumes"`
	Deploy      struct {
		Resources struct {
			Limits struct {
				Pids   yaml.Node `yaml:"pids"`
				Memory yaml.Node `yaml:"memory"`
			} `yaml:"limits"`
		} `yaml:"resources"`
	} `yaml:"deploy"`
}

// composeVolume is a volume in the short (SRC:DST[:MODE]) or long form.
type composeVolume struct {
	Mount
}

func (v *composeVolume) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		v.Mount = bindMount(n.Value)
		if !strings.HasPrefix(v.Source, "/") && !strings.HasPrefix(v.Source, ".") && !strings.HasPrefix(v.Source, "~") {
			v.Type = "volume"
		}
		return nil
	}
	var long struct {
		Type   string `yaml:"type"`
		Source string `yaml:"source"`
		Target string `yaml:"target"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	v.Mount = Mount{Type: long.Type, Source: long.Source, Destination: long.Target}
	return nil
}

// FromCompose reads the services of a Compose file, sorted by name. origin
// names the file in messages.
func FromCompose(data []byte, origin string) ([]Settings, error) {
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%w: compose file %s: %w", ErrInput, origin, err)
	}
	if len(f.Services) == 0 {
		return nil, fmt.Errorf("%w: compose file %s has no services", ErrInput, origin)
	}
	names := make([]string, 0, len(f.Services))
	for n := range f.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]Settings, 0, len(names))
	for _, n := range names {
		svc := f.Services[n]
		s := Settings{
			Name:           n,
			Origin:         "compose " + origin,
			Privileged:     svc.Privileged,
			CapAdd:         svc.CapAdd,
			CapDrop:        svc.CapDrop,
			ReadonlyRootfs: svc.ReadOnly,
			UsernsMode:     svc.UsernsMode,
		}
		if err := s.securityOpts(svc.SecurityOpt); err != nil {
			return nil, fmt.Errorf("%w: compose file %s: service %q: %w", ErrInput, origin, n, err)
		}
		if svc.User.Kind != 0 {
			s.User, s.UserKnown = svc.User.Value, true
		}
		for _, p := range []yaml.Node{svc.PidsLimit, svc.Deploy.Resources.Limits.Pids} {
			if p.Kind == 0 {
				continue
			}
			v, err := strconv.ParseInt(p.Value, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("%w: compose file %s line %d: service %q: pids limit %q is not a number", ErrInput, origin, p.Line, n, p.Value)
			}
			s.PidsLimit = v
		}
		for _, m := range []yaml.Node{svc.MemLimit, svc.Deploy.Resources.Limits.Memory} {
			if m.Kind == 0 {
				continue
			}
			v := strings.TrimSpace(m.Value)
			s.MemorySet = v != "" && v != "0" && v != "-1"
			if b, err := strconv.ParseInt(v, 10, 64); err == nil {
				s.Memory = b
			}
		}
		for _, v := range svc.Volumes {
			s.Mounts = append(s.Mounts, v.Mount)
		}
		out = append(out, s)
	}
	return out, nil
}
