// Package profiles is aa-flow's model of AppArmor policy: the rule types a
// profile file holds, and the variables (@{NAME}) its patterns use.
//
// It knows nothing of logs, files on disk or the kernel: parser/ builds the
// model from text and templates/ renders it back; policy/ answers what a
// profile allows, propose/ turns audit records into new rules, lint/ rates
// rules, and rollout/ and store/ write and keep profile files.
package profiles

import "fmt"

// Pos is a position in a policy file: 1-based line and column.
type Pos struct {
	File string
	Line int
	Col  int // 1-based, counted in bytes
	// Offset is the 0-based byte offset in the file, for tools that splice
	// text (the learner inserting rules before a profile's closing brace).
	Offset int
}

func (p Pos) String() string {
	if p.File == "" {
		return fmt.Sprintf("%d:%d", p.Line, p.Col)
	}
	return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
}

// Meta is what every node carries besides its meaning: where it was read and
// the comments the person wrote around it.
type Meta struct {
	Pos Pos
	// End is the position just after the node's last character (after the
	// comma of a rule, after the closing brace of a block).
	End Pos
	// Comments are the comment lines directly above the node, each with its
	// leading '#', in order. A blank line between a comment and the node
	// makes the comment a standalone *Comment node instead.
	Comments []string
	// Trailing is a comment on the same line after the node, with its '#'.
	Trailing string
}

// Node is anything that can stand in a policy file or a profile body.
type Node interface {
	// Kind names the node's type.
	Kind() Kind
	// Meta returns the node's position and comments, for reading and editing.
	NodeMeta() *Meta
}

// NodeMeta lets every node embed Meta and satisfy Node's accessor.
func (m *Meta) NodeMeta() *Meta { return m }

// Kind is the type of a node.
type Kind string

// The node kinds.
const (
	KindAbi           Kind = "abi"
	KindInclude       Kind = "include"
	KindVariable      Kind = "variable"
	KindAlias         Kind = "alias"
	KindComment       Kind = "comment"
	KindRaw           Kind = "raw"
	KindProfile       Kind = "profile"
	KindFile          Kind = "file"
	KindLink          Kind = "link"
	KindCapability    Kind = "capability"
	KindNetwork       Kind = "network"
	KindClass         Kind = "class" // signal, ptrace, unix, dbus, mount, ... (see ClassRule)
	KindChangeProfile Kind = "change_profile"
	KindRlimit        Kind = "rlimit"
)

// Qualifiers are the rule prefixes. Audit and Deny may combine; Allow is the
// explicit "allow" keyword (the default when absent); Owner and Other narrow
// a file rule to the object's owner or to everyone else.
type Qualifiers struct {
	Audit bool
	Deny  bool
	Allow bool
	Owner bool
	Other bool
}

// File is one policy file: its preamble (abi, includes, variables, aliases,
// comments) and its profiles, in source order.
type File struct {
	Path  string
	Items []Node
}

// Profiles returns the file's top-level profiles in order.
func (f *File) Profiles() []*Profile {
	var out []*Profile
	for _, n := range f.Items {
		if p, ok := n.(*Profile); ok {
			out = append(out, p)
		}
	}
	return out
}

// Find returns the profile with the given name, looking into child profiles
// and hats with the kernel's "parent//child" naming. A top-level profile that
// has no name is found by its attachment.
func (f *File) Find(name string) *Profile {
	for _, p := range f.Profiles() {
		if found := p.find(name, ""); found != nil {
			return found
		}
	}
	return nil
}

func (p *Profile) find(name, prefix string) *Profile {
	full := prefix + p.DisplayName()
	if full == name {
		return p
	}
	for _, c := range p.Children() {
		if found := c.find(name, full+"//"); found != nil {
			return found
		}
	}
	return nil
}

// Abi is `abi <abi/3.0>,` or `abi "path",`.
type Abi struct {
	Meta
	Path  string
	Angle bool // <path> rather than "path"
}

// Include is `include <x>`, `#include "x"` or `include if exists <x>`.
type Include struct {
	Meta
	Path     string
	Angle    bool // <path> (searched in the include path) rather than "path"
	IfExists bool
	Hash     bool // written in the old "#include" form
}

// Variable is `@{NAME} = value ...` or `@{NAME} += value ...`.
type Variable struct {
	Meta
	Name   string   // without @{ }
	Append bool     // +=
	Values []string // as written (patterns), quotes removed
}

// Alias is `alias /from -> /to,`.
type Alias struct {
	Meta
	From, To string
}

// Comment is a comment that does not belong to a following node (separated
// by a blank line, or at the end of a block or file).
type Comment struct {
	Meta
	Text string // with its leading '#'
}

// Raw is a construct the model does not understand, kept verbatim and
// rendered back unchanged.
type Raw struct {
	Meta
	Text string
}

// Profile is a profile, a child profile or a hat.
type Profile struct {
	Meta
	Q Qualifiers // audit/deny on a whole profile are not valid; kept for raw fidelity
	// Keyword is how the profile was introduced: "profile", "hat", "^"
	// (hat shorthand), or "" for a profile declared by its attachment path.
	Keyword    string
	Name       string // the name as written, quotes removed
	Attachment string // the attachment pattern, if any
	Xattrs     []Cond // xattrs=( ... )
	Flags      []string
	// FlagSpans is where each flags clause of the header is in the source
	// (flags=(...), flags=x, or the old "(...)" form), for edits that
	// change only the flags; empty when the header has none.
	FlagSpans []Span
	Rules     []Node // the body in source order: rules, includes, comments, children, ...
	// Open is the position of the '{' that opens the body: flags a
	// header lacks go before it.
	Open Pos
	// Close is the position of the closing '}' of the body (Meta.End is
	// just after it). New rules go before Close.
	Close Pos
}

// Span is a byte range of a source, [Start, End).
type Span struct{ Start, End int }

// DisplayName is the name the kernel reports: Name, or the attachment when
// the profile was declared by path only.
func (p *Profile) DisplayName() string {
	if p.Name != "" {
		return p.Name
	}
	return p.Attachment
}

// Children returns the child profiles and hats defined in the body.
func (p *Profile) Children() []*Profile {
	var out []*Profile
	for _, n := range p.Rules {
		if c, ok := n.(*Profile); ok {
			out = append(out, c)
		}
	}
	return out
}

// IsHat reports whether the profile is a hat (^name or hat name).
func (p *Profile) IsHat() bool { return p.Keyword == "^" || p.Keyword == "hat" }

// HasFlag reports whether flags=(...) holds f.
func (p *Profile) HasFlag(f string) bool {
	for _, x := range p.Flags {
		if x == f {
			return true
		}
	}
	return false
}

// ModeFlags are the profile's flags that set its mode (complain, enforce,
// kill, unconfined, prompt), in the order written: what a new hat or child
// takes from its parent.
func (p *Profile) ModeFlags() []string {
	var out []string
	for _, f := range p.Flags {
		switch f {
		case "complain", "enforce", "kill", "unconfined", "prompt":
			out = append(out, f)
		}
	}
	return out
}

// FileRule is a path rule: `[qualifiers] [file] PATH PERMS [-> TARGET],`
// (or the permissions-first form), or a bare `file,` when Path is empty.
type FileRule struct {
	Meta
	Q           Qualifiers
	FileKeyword bool // the "file" keyword was written
	PermsFirst  bool // written as "PERMS PATH"
	// Path is the pattern exactly as AppArmor interprets it: escapes kept
	// (\* matches a literal star), surrounding quotes removed. Use
	// EscapeLiteral to turn a name from a log into a Path.
	Path string
	// Perms are the non-exec permission letters in canonical order
	// (r w a l k m; c d are kept if written).
	Perms string
	// Exec is the exec mode: ix px Px cx Cx ux Ux pix Pix cix Cix pux PUx
	// cux CUx, or "x" (only valid with deny); empty when the rule grants no
	// exec.
	Exec   string
	Target string // -> target of an exec transition
}

// LinkRule is `[qualifiers] link [subset] PATH -> TARGET,`.
type LinkRule struct {
	Meta
	Q      Qualifiers
	Subset bool
	Path   string
	Target string
}

// CapabilityRule is `capability [name ...],`; no Caps means every capability.
type CapabilityRule struct {
	Meta
	Q    Qualifiers
	Caps []string
}

// NetworkRule is `network [access] [family] [type | protocol] [conds],`.
// Empty fields mean "any".
type NetworkRule struct {
	Meta
	Q        Qualifiers
	Access   []string // (send receive ...), newer syntax
	Family   string
	Type     string
	Protocol string
	Conds    []Cond // fine-grained: ip=, port=
	Peer     []Cond // peer=( ... )
}

// ClassRule is a rule of the classes that share one shape,
// `[qualifiers] CLASS [access] [cond ...] [peer=(...)] [args],`:
// signal, ptrace, unix, dbus, mount, remount, umount, pivot_root, userns,
// mqueue, io_uring.
//
// Examples:
//
//	signal (send) set=(term, kill) peer=foo,
//	ptrace (read) peer=unconfined,
//	unix (connect, send) type=stream peer=(label=bar, addr="@x"),
//	dbus (send) bus=system path=/org/x member=Y peer=(name=org.x),
//	mount options=(ro, bind) /src/ -> /dst/,
type ClassRule struct {
	Meta
	Q      Qualifiers
	Class  string   // the keyword: signal, ptrace, unix, dbus, mount, ...
	Access []string // (send, receive) or a single access word; empty means all
	Conds  []Cond   // conditions in order, peer=( ) excluded
	Peer   []Cond   // peer=(...) conditions; a bare peer=LABEL is one Cond with Key "label"
	// Args are positional operands after the conditions (mount's source,
	// pivot_root's new root), and Target the operand after "->".
	Args   []string
	Target string
}

// Cond is one condition `key=value`, `key=(v1 v2)` or `key in (v1 v2)`.
type Cond struct {
	Key    string
	In     bool     // "in" instead of "="
	Values []string // quotes removed
	Paren  bool     // written with parentheses
}

// ChangeProfileRule is `change_profile [safe|unsafe] [EXEC] [-> PROFILE ...],`.
type ChangeProfileRule struct {
	Meta
	Q       Qualifiers
	Mode    string // "safe", "unsafe" or ""
	Exec    string // exec condition path, if any
	Targets []string
}

// RlimitRule is `set rlimit RESOURCE <= VALUE,`.
type RlimitRule struct {
	Meta
	Resource string
	Value    string
}

// RuleQualifiers returns a rule's qualifiers (audit, deny, owner, ...), for
// reading and editing; nil for nodes that take none.
func RuleQualifiers(n Node) *Qualifiers {
	switch r := n.(type) {
	case *FileRule:
		return &r.Q
	case *LinkRule:
		return &r.Q
	case *CapabilityRule:
		return &r.Q
	case *NetworkRule:
		return &r.Q
	case *ClassRule:
		return &r.Q
	case *ChangeProfileRule:
		return &r.Q
	}
	return nil
}

// Kind implementations.

func (*Abi) Kind() Kind               { return KindAbi }
func (*Include) Kind() Kind           { return KindInclude }
func (*Variable) Kind() Kind          { return KindVariable }
func (*Alias) Kind() Kind             { return KindAlias }
func (*Comment) Kind() Kind           { return KindComment }
func (*Raw) Kind() Kind               { return KindRaw }
func (*Profile) Kind() Kind           { return KindProfile }
func (*FileRule) Kind() Kind          { return KindFile }
func (*LinkRule) Kind() Kind          { return KindLink }
func (*CapabilityRule) Kind() Kind    { return KindCapability }
func (*NetworkRule) Kind() Kind       { return KindNetwork }
func (*ClassRule) Kind() Kind         { return KindClass }
func (*ChangeProfileRule) Kind() Kind { return KindChangeProfile }
func (*RlimitRule) Kind() Kind        { return KindRlimit }
