package templates

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/profiles"
)

func TestRenderNode(t *testing.T) {
	tests := []struct {
		name  string
		node  profiles.Node
		depth int
		want  string
	}{
		{"file rule", &profiles.FileRule{Path: "/etc/x", Perms: "rw"}, 1, "  /etc/x rw,"},
		{"file rule with qualifiers", &profiles.FileRule{Q: profiles.Qualifiers{Audit: true, Deny: true, Owner: true}, Path: "/etc/x", Perms: "w"}, 0, "audit deny owner /etc/x w,"},
		{"file keyword, perms first", &profiles.FileRule{FileKeyword: true, PermsFirst: true, Path: "/etc/x", Perms: "r"}, 0, "file r /etc/x,"},
		{"bare file", &profiles.FileRule{FileKeyword: true}, 0, "file,"},
		{"exec transition", &profiles.FileRule{Path: "/usr/bin/t", Perms: "rm", Exec: "Px", Target: "t profile"}, 0, `/usr/bin/t rmPx -> "t profile",`},
		{"link perm with target", &profiles.FileRule{Path: "/a", Perms: "rl", Target: "/b"}, 0, "/a rl -> /b,"},
		{"path with space", &profiles.FileRule{Path: "/a b", Perms: "r"}, 0, `"/a b" r,`},
		{"comments", &profiles.FileRule{Meta: profiles.Meta{Comments: []string{"# one", "# two"}, Trailing: "# three"}, Path: "/x", Perms: "r"}, 2, "    # one\n    # two\n    /x r, # three"},
		{"link", &profiles.LinkRule{Subset: true, Path: "/a", Target: "/b"}, 0, "link subset /a -> /b,"},
		{"capability", &profiles.CapabilityRule{Caps: []string{"chown", "setuid"}}, 0, "capability chown setuid,"},
		{"all capabilities", &profiles.CapabilityRule{Q: profiles.Qualifiers{Deny: true}}, 0, "deny capability,"},
		{"network", &profiles.NetworkRule{Family: "inet6", Type: "dgram"}, 0, "network inet6 dgram,"},
		{"network protocol", &profiles.NetworkRule{Family: "inet", Protocol: "tcp"}, 0, "network inet tcp,"},
		{"signal", &profiles.ClassRule{Class: "signal", Access: []string{"send", "receive"}, Conds: []profiles.Cond{{Key: "set", Paren: true, Values: []string{"term", "kill"}}}, Peer: []profiles.Cond{{Key: "label", Values: []string{"foo"}}}}, 0, "signal (send, receive) set=(term, kill) peer=foo,"},
		{"unix peer label needs parens", &profiles.ClassRule{Class: "unix", Peer: []profiles.Cond{{Key: "label", Values: []string{"foo"}}}}, 0, "unix peer=(label=foo),"},
		{"dbus", &profiles.ClassRule{Class: "dbus", Access: []string{"send"}, Conds: []profiles.Cond{{Key: "bus", Values: []string{"system"}}, {Key: "member", Values: []string{"{A,B}"}}}, Peer: []profiles.Cond{{Key: "name", Values: []string{"org.x"}}}}, 0, "dbus send bus=system member={A,B} peer=(name=org.x),"},
		{"mount", &profiles.ClassRule{Class: "mount", Conds: []profiles.Cond{{Key: "options", In: true, Values: []string{"ro", "bind"}}}, Args: []string{"/src/"}, Target: "/dst/"}, 0, "mount options in (ro, bind) /src/ -> /dst/,"},
		{"change_profile", &profiles.ChangeProfileRule{Mode: "safe", Exec: "/bin/x", Targets: []string{"y"}}, 0, "change_profile safe /bin/x -> y,"},
		{"rlimit", &profiles.RlimitRule{Resource: "nofile", Value: "1024"}, 0, "set rlimit nofile <= 1024,"},
		{"include", &profiles.Include{Path: "abstractions/base", Angle: true, IfExists: true}, 1, "  include if exists <abstractions/base>"},
		{"hash include", &profiles.Include{Path: "/etc/x y", Hash: true}, 0, `#include "/etc/x y"`},
		{"abi", &profiles.Abi{Path: "abi/3.0", Angle: true}, 0, "abi <abi/3.0>,"},
		// apparmor_parser trims blanks at the ends of <path>: quoted inside.
		{"abi with a blank at an end", &profiles.Abi{Path: " 0", Angle: true}, 0, `abi <" 0">,`},
		{"include with a tab", &profiles.Include{Path: "a\tb", Angle: true}, 0, "include <\"a\tb\">"},
		{"include with an inner blank", &profiles.Include{Path: "a b", Angle: true}, 0, "include <a b>"},
		{"abi starting with =", &profiles.Abi{Path: "=x", Angle: true}, 0, `abi <"=x">,`},
		{"exec mode before the old create letter", &profiles.FileRule{Path: "/x", Perms: "c", Exec: "Cx"}, 0, "/x Cxc,"},
		{"exec mode after the letters", &profiles.FileRule{Path: "/x", Perms: "rm", Exec: "ix"}, 0, "/x rmix,"},
		{"variable", &profiles.Variable{Name: "D", Append: true, Values: []string{"/a", "/b c"}}, 0, `@{D} += /a "/b c"`},
		{"alias", &profiles.Alias{From: "/usr/", To: "/mnt/usr/"}, 0, "alias /usr/ -> /mnt/usr/,"},
		{"comment", &profiles.Comment{Text: "# hi"}, 1, "  # hi"},
		{"raw", &profiles.Raw{Text: "all,"}, 1, "  all,"},
		{"raw block re-indented", &profiles.Raw{Meta: profiles.Meta{Pos: profiles.Pos{Line: 3, Col: 5}}, Text: "if $x {\n      /a r,\n    }"}, 1, "  if $x {\n    /a r,\n  }"},
		// Found by FuzzFormat: a line of blanks is emptied also when the
		// block cannot move (its last line starts left of the first).
		{"raw block kept in place", &profiles.Raw{Meta: profiles.Meta{Pos: profiles.Pos{Line: 1, Col: 2}}, Text: "$=\n \n0"}, 0, "$=\n\n0"},
		{"raw block moved, blank line emptied", &profiles.Raw{Meta: profiles.Meta{Pos: profiles.Pos{Line: 1, Col: 3}}, Text: "if $x {\n  \t\n    /a r,\n  }"}, 0, "if $x {\n\n  /a r,\n}"},
		{"hat", &profiles.Profile{Keyword: "^", Name: "h", Rules: []profiles.Node{&profiles.FileRule{Path: "/h", Perms: "r"}}}, 1, "  ^h {\n    /h r,\n  }"},
		{"empty profile", &profiles.Profile{Attachment: "/usr/bin/x", Flags: []string{"complain", "attach_disconnected"}}, 0, "/usr/bin/x flags=(complain,attach_disconnected) {\n}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderNode(tt.node, tt.depth)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestRenderGroupsByKind: rules are grouped by kind, children last, while
// a raw block and a standalone comment stay where they were.
func TestRenderGroupsByKind(t *testing.T) {
	p := &profiles.Profile{Keyword: "profile", Name: "p", Rules: []profiles.Node{
		&profiles.FileRule{Path: "/b", Perms: "r"},
		&profiles.Profile{Keyword: "profile", Name: "child"},
		&profiles.CapabilityRule{Caps: []string{"chown"}},
		&profiles.Include{Path: "abstractions/base", Angle: true},
		&profiles.Raw{Text: "all,"},
		&profiles.FileRule{Path: "/a", Perms: "r"},
		&profiles.Comment{Text: "# standalone"},
		&profiles.NetworkRule{},
		&profiles.ChangeProfileRule{Targets: []string{"x"}},
	}}
	got, err := RenderNode(p, 0)
	require.NoError(t, err)
	assert.Equal(t, `profile p {
  include <abstractions/base>

  capability chown,

  /b r,

  profile child {
  }

  all,

  /a r,

  # standalone

  network,

  change_profile -> x,
}`, got)
}

// TestRenderRefuses: a node that cannot be written safely is refused,
// never rendered.
func TestRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		node profiles.Node
	}{
		{"perms smuggling a rule", &profiles.FileRule{Path: "/a", Perms: "r, /etc/shadow r"}},
		{"unknown exec mode", &profiles.FileRule{Path: "/a", Exec: "zx"}},
		{"no permission", &profiles.FileRule{Path: "/a"}},
		{"no path", &profiles.FileRule{Perms: "r"}},
		{"target without exec", &profiles.FileRule{Path: "/a", Perms: "r", Target: "b"}},
		{"NUL in path", &profiles.FileRule{Path: "/a\x00", Perms: "r"}},
		{"comment with newline", &profiles.FileRule{Path: "/a", Perms: "r", Meta: profiles.Meta{Comments: []string{"# x\n/etc/shadow r,"}}}},
		{"comment without hash", &profiles.FileRule{Path: "/a", Perms: "r", Meta: profiles.Meta{Trailing: "x"}}},
		{"comment reading as include", &profiles.Comment{Text: "#include <x>"}},
		{"capability with comma", &profiles.CapabilityRule{Caps: []string{"chown,"}}},
		{"network family with space", &profiles.NetworkRule{Family: "inet stream"}},
		{"class keyword", &profiles.ClassRule{Class: "signal,"}},
		{"cond key with =", &profiles.ClassRule{Class: "dbus", Conds: []profiles.Cond{{Key: "a=b", Values: []string{"c"}}}}},
		{"flag with paren", &profiles.Profile{Attachment: "/x", Flags: []string{"complain)"}}},
		{"nameless profile", &profiles.Profile{Keyword: "profile"}},
		{"hat name needing quotes", &profiles.Profile{Keyword: "^", Name: "a b"}},
		{"include path with >", &profiles.Include{Path: "a>b", Angle: true}},
		{"angle include path with quote", &profiles.Include{Path: `a"b`, Angle: true}},
		{"include path with quote", &profiles.Include{Path: `a"b`}},
		{"rlimit value", &profiles.RlimitRule{Resource: "nofile", Value: "1, /etc/shadow r"}},
		{"variable name", &profiles.Variable{Name: "a}b"}},
		{"bad change_profile mode", &profiles.ChangeProfileRule{Mode: "maybe"}},
		{"bad rule inside a profile", &profiles.Profile{Attachment: "/x", Rules: []profiles.Node{&profiles.FileRule{Path: "/a", Perms: "q"}}}},
		{"nil", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderNode(tt.node, 0)
			assert.Error(t, err)
			assert.Empty(t, got)
		})
	}
	_, err := Render(&profiles.File{Items: []profiles.Node{&profiles.FileRule{Path: "/a", Perms: "r w"}}})
	assert.Error(t, err)
}
