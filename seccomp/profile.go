// Package seccomp is aa-flow's seccomp side: the profile format Docker reads
// (defaultAction, architectures or archMap, syscalls with names, action,
// args and includes/excludes), Docker's default profile as the starting
// point, the learning form (what the default allows is logged instead,
// SCMP_ACT_LOG), the kernel's SECCOMP records mapped to syscall names per
// architecture, and the narrowing of the allow-list to what was seen.
// Keeper keeps each name's profile, learning base, learned set and
// revisions in aa-flow's state directory.
package seccomp

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
)

// The actions aa-flow reads and writes (libseccomp's names, as Docker
// spells them).
const (
	ActAllow = "SCMP_ACT_ALLOW"
	ActLog   = "SCMP_ACT_LOG"
	ActErrno = "SCMP_ACT_ERRNO"
)

// ErrFormat marks a profile that is not a seccomp profile Docker accepts.
var ErrFormat = errors.New("not a seccomp profile")

//go:embed data/docker-default.json
var dockerDefault []byte

// DockerDefault returns Docker's default profile (see data/README.md for
// its origin and licence).
func DockerDefault() []byte { return bytes.Clone(dockerDefault) }

// Profile is a seccomp profile in Docker's JSON format. Field names are the
// format's; an absent field stays absent when written back.
type Profile struct {
	DefaultAction    string         `json:"defaultAction"`
	DefaultErrnoRet  *uint          `json:"defaultErrnoRet,omitempty"`
	Architectures    []string       `json:"architectures,omitempty"`
	ArchMap          []Architecture `json:"archMap,omitempty"`
	Flags            []string       `json:"flags,omitempty"`
	ListenerPath     string         `json:"listenerPath,omitempty"`
	ListenerMetadata string         `json:"listenerMetadata,omitempty"`
	Syscalls         []Rule         `json:"syscalls"`
}

// Architecture is one archMap entry: an architecture and the
// sub-architectures that come with it.
type Architecture struct {
	Arch      string   `json:"architecture"`
	SubArches []string `json:"subArchitectures"`
}

// Rule is one syscalls entry: the names it applies to, the action, and the
// conditions (argument comparisons, capabilities, architectures, kernel).
type Rule struct {
	Names    []string `json:"names,omitempty"`
	Name     string   `json:"name,omitempty"` // the old single-name form
	Action   string   `json:"action"`
	ErrnoRet *uint    `json:"errnoRet,omitempty"`
	Args     []Arg    `json:"args,omitempty"`
	Comment  string   `json:"comment,omitempty"`
	Includes *Filter  `json:"includes,omitempty"`
	Excludes *Filter  `json:"excludes,omitempty"`
}

// Arg is one argument comparison.
type Arg struct {
	Index    uint   `json:"index"`
	Value    uint64 `json:"value"`
	ValueTwo uint64 `json:"valueTwo,omitempty"`
	Op       string `json:"op"`
}

// Filter is a rule's condition on the container and host.
type Filter struct {
	Caps      []string `json:"caps,omitempty"`
	Arches    []string `json:"arches,omitempty"`
	MinKernel string   `json:"minKernel,omitempty"`
}

// Conditional reports whether the rule holds only under a condition
// (arguments, capabilities, architecture, kernel).
func (r Rule) Conditional() bool {
	return len(r.Args) > 0 || r.Includes != nil || r.Excludes != nil
}

// names returns the rule's names in either form.
func (r Rule) names() []string {
	if r.Name != "" {
		return append([]string{r.Name}, r.Names...)
	}
	return r.Names
}

// Parse reads a profile. Unknown keys are refused, so that a profile is
// never written back with part of it silently lost.
func Parse(data []byte) (*Profile, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var p Profile
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("%w: no defaultAction", ErrFormat)
	}
	for i, r := range p.Syscalls {
		if r.Action == "" {
			return nil, fmt.Errorf("%w: syscalls[%d] has no action", ErrFormat, i)
		}
		if len(r.names()) == 0 {
			return nil, fmt.Errorf("%w: syscalls[%d] has no names", ErrFormat, i)
		}
	}
	return &p, nil
}

// Marshal writes the profile as indented JSON with a final newline.
func (p *Profile) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(p, "", "\t")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Names returns, sorted and once each, the syscalls named by rules with
// the given action.
func (p *Profile) Names(action string) []string {
	seen := map[string]bool{}
	for _, r := range p.Syscalls {
		if r.Action != action {
			continue
		}
		for _, n := range r.names() {
			seen[n] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// UnconditionalNames is Names restricted to rules without conditions.
func (p *Profile) UnconditionalNames(action string) []string {
	q := *p
	q.Syscalls = nil
	for _, r := range p.Syscalls {
		if !r.Conditional() {
			q.Syscalls = append(q.Syscalls, r)
		}
	}
	return q.Names(action)
}

// FileName is the seccomp profile's file in a name's state directory.
const FileName = "seccomp.json"
