package parser

import (
	"testing"

	"github.com/aa-flow/aa-flow/profiles"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// clearMeta zeroes positions so that tests compare meaning; comments are
// kept.
func clearMeta(nodes []profiles.Node) {
	for _, n := range nodes {
		m := n.NodeMeta()
		m.Pos, m.End = profiles.Pos{}, profiles.Pos{}
		if p, ok := n.(*profiles.Profile); ok {
			p.Open, p.Close, p.FlagSpans = profiles.Pos{}, profiles.Pos{}, nil
			clearMeta(p.Rules)
		}
	}
}

// parseBody parses rules inside a profile and returns its body.
func parseBody(t *testing.T, body string) []profiles.Node {
	t.Helper()
	f, err := Parse("t", []byte("profile t {\n"+body+"\n}\n"))
	require.NoError(t, err)
	require.Len(t, f.Items, 1)
	p := f.Items[0].(*profiles.Profile)
	clearMeta(p.Rules)
	return p.Rules
}

func TestRules(t *testing.T) {
	deny := profiles.Qualifiers{Deny: true}
	owner := profiles.Qualifiers{Owner: true}
	tests := []struct {
		src  string
		want profiles.Node
	}{
		{`/etc/passwd r,`, &profiles.FileRule{Path: "/etc/passwd", Perms: "r"}},
		{`/usr/bin/eqn rmCx -> &man_groff,`, &profiles.FileRule{Path: "/usr/bin/eqn", Perms: "rm", Exec: "Cx", Target: "&man_groff"}},
		{`/** mrixwlk,`, &profiles.FileRule{Path: "/**", Perms: "rwlkm", Exec: "ix"}},
		{`/tmp/with\ space r,`, &profiles.FileRule{Path: "/tmp/with space", Perms: "r"}},
		{`"/tmp/q\"uote" r,`, &profiles.FileRule{Path: `/tmp/q\"uote`, Perms: "r"}},
		{`"/tmp/a b" rw,`, &profiles.FileRule{Path: "/tmp/a b", Perms: "rw"}},
		{`/tmp/lit\*star r,`, &profiles.FileRule{Path: `/tmp/lit\*star`, Perms: "r"}},
		{`/{,usr/}bin/{bash,dash} ix,`, &profiles.FileRule{Path: "/{,usr/}bin/{bash,dash}", Exec: "ix"}},
		{`@{PROC}/@{pid}/fd/ r,`, &profiles.FileRule{Path: "@{PROC}/@{pid}/fd/", Perms: "r"}},
		{`owner @{HOME}/** rw,`, &profiles.FileRule{Q: owner, Path: "@{HOME}/**", Perms: "rw"}},
		{`audit deny /etc/shadow w,`, &profiles.FileRule{Q: profiles.Qualifiers{Audit: true, Deny: true}, Path: "/etc/shadow", Perms: "w"}},
		{`allow /x r,`, &profiles.FileRule{Q: profiles.Qualifiers{Allow: true}, Path: "/x", Perms: "r"}},
		{`deny /bin/su x,`, &profiles.FileRule{Q: deny, Path: "/bin/su", Exec: "x"}},
		{`rw /tmp/front,`, &profiles.FileRule{PermsFirst: true, Path: "/tmp/front", Perms: "rw"}},
		{`Px /usr/bin/foo -> bar,`, &profiles.FileRule{PermsFirst: true, Path: "/usr/bin/foo", Exec: "Px", Target: "bar"}},
		{`file,`, &profiles.FileRule{FileKeyword: true}},
		{`owner file,`, &profiles.FileRule{Q: owner, FileKeyword: true}},
		{`file /etc/x r,`, &profiles.FileRule{FileKeyword: true, Path: "/etc/x", Perms: "r"}},
		{`file r /etc/x,`, &profiles.FileRule{FileKeyword: true, PermsFirst: true, Path: "/etc/x", Perms: "r"}},
		{`/usr/bin/x PUx,`, &profiles.FileRule{Path: "/usr/bin/x", Exec: "PUx"}},
		{`/usr/bin/x Cix -> child,`, &profiles.FileRule{Path: "/usr/bin/x", Exec: "Cix", Target: "child"}},
		{`/usr/bin/x RWM,`, &profiles.FileRule{Path: "/usr/bin/x", Perms: "rwm"}},
		{`/a l -> /b,`, &profiles.FileRule{Path: "/a", Perms: "l", Target: "/b"}},
		{`link /a -> /b,`, &profiles.LinkRule{Path: "/a", Target: "/b"}},
		{`deny link subset /a* -> "/b c",`, &profiles.LinkRule{Q: deny, Subset: true, Path: "/a*", Target: "/b c"}},
		{`capability,`, &profiles.CapabilityRule{}},
		{`capability setuid setgid,`, &profiles.CapabilityRule{Caps: []string{"setuid", "setgid"}}},
		{`network,`, &profiles.NetworkRule{}},
		{`network inet stream,`, &profiles.NetworkRule{Family: "inet", Type: "stream"}},
		{`network inet tcp,`, &profiles.NetworkRule{Family: "inet", Protocol: "tcp"}},
		{`deny network raw,`, &profiles.NetworkRule{Q: deny, Type: "raw"}},
		{`network (send, receive) inet dgram ip=10.0.0.1 port=53 peer=(ip=10.0.0.2, port=53),`, &profiles.NetworkRule{
			Access: []string{"send", "receive"}, Family: "inet", Type: "dgram",
			Conds: []profiles.Cond{{Key: "ip", Values: []string{"10.0.0.1"}}, {Key: "port", Values: []string{"53"}}},
			Peer:  []profiles.Cond{{Key: "ip", Values: []string{"10.0.0.2"}}, {Key: "port", Values: []string{"53"}}},
		}},
		{`signal (send) set=(term, kill) peer=foo,`, &profiles.ClassRule{
			Class: "signal", Access: []string{"send"},
			Conds: []profiles.Cond{{Key: "set", Values: []string{"term", "kill"}, Paren: true}},
			Peer:  []profiles.Cond{{Key: "label", Values: []string{"foo"}}},
		}},
		{`signal peer=@{profile_name},`, &profiles.ClassRule{Class: "signal", Peer: []profiles.Cond{{Key: "label", Values: []string{"@{profile_name}"}}}}},
		{`ptrace read peer=unconfined,`, &profiles.ClassRule{Class: "ptrace", Access: []string{"read"}, Peer: []profiles.Cond{{Key: "label", Values: []string{"unconfined"}}}}},
		{`unix (connect, send) type=stream peer=(label=bar, addr="@x y"),`, &profiles.ClassRule{
			Class: "unix", Access: []string{"connect", "send"},
			Conds: []profiles.Cond{{Key: "type", Values: []string{"stream"}}},
			Peer:  []profiles.Cond{{Key: "label", Values: []string{"bar"}}, {Key: "addr", Values: []string{"@x y"}}},
		}},
		{"dbus send\n    bus=system\n    path=/org/freedesktop/DBus\n    member={Hello,AddMatch}\n    peer=(name=org.freedesktop.DBus),", &profiles.ClassRule{
			Class: "dbus", Access: []string{"send"},
			Conds: []profiles.Cond{
				{Key: "bus", Values: []string{"system"}},
				{Key: "path", Values: []string{"/org/freedesktop/DBus"}},
				{Key: "member", Values: []string{"{Hello,AddMatch}"}},
			},
			Peer: []profiles.Cond{{Key: "name", Values: []string{"org.freedesktop.DBus"}}},
		}},
		{`mount fstype=ext3,ext4 options=(ro, bind) /dev/sda1 -> /mnt/,`, &profiles.ClassRule{
			Class: "mount",
			Conds: []profiles.Cond{{Key: "fstype", Values: []string{"ext3,ext4"}}, {Key: "options", Values: []string{"ro", "bind"}, Paren: true}},
			Args:  []string{"/dev/sda1"}, Target: "/mnt/",
		}},
		{`mount options in (ro, rw) proc -> /proc/,`, &profiles.ClassRule{
			Class: "mount",
			Conds: []profiles.Cond{{Key: "options", In: true, Values: []string{"ro", "rw"}, Paren: true}},
			Args:  []string{"proc"}, Target: "/proc/",
		}},
		{`umount /mnt/,`, &profiles.ClassRule{Class: "umount", Args: []string{"/mnt/"}}},
		{`pivot_root oldroot=/old/ /new/ -> child,`, &profiles.ClassRule{
			Class: "pivot_root", Conds: []profiles.Cond{{Key: "oldroot", Values: []string{"/old/"}}}, Args: []string{"/new/"}, Target: "child",
		}},
		{`userns,`, &profiles.ClassRule{Class: "userns"}},
		{`userns create,`, &profiles.ClassRule{Class: "userns", Access: []string{"create"}}},
		{`mqueue (read, write) type=posix /q,`, &profiles.ClassRule{Class: "mqueue", Access: []string{"read", "write"}, Conds: []profiles.Cond{{Key: "type", Values: []string{"posix"}}}, Args: []string{"/q"}}},
		{`io_uring (override_creds) label=foo,`, &profiles.ClassRule{Class: "io_uring", Access: []string{"override_creds"}, Conds: []profiles.Cond{{Key: "label", Values: []string{"foo"}}}}},
		{`change_profile,`, &profiles.ChangeProfileRule{}},
		{`change_profile -> foo,`, &profiles.ChangeProfileRule{Targets: []string{"foo"}}},
		{`change_profile unsafe /bin/x -> "a b",`, &profiles.ChangeProfileRule{Mode: "unsafe", Exec: "/bin/x", Targets: []string{"a b"}}},
		{`set rlimit nofile <= 1024,`, &profiles.RlimitRule{Resource: "nofile", Value: "1024"}},
		{`set rlimit as <= 10MB,`, &profiles.RlimitRule{Resource: "as", Value: "10MB"}},
		{`include <abstractions/base>`, &profiles.Include{Path: "abstractions/base", Angle: true}},
		{`#include "local/x"`, &profiles.Include{Path: "local/x", Hash: true}},
		{`include if exists <local/foo>`, &profiles.Include{Path: "local/foo", Angle: true, IfExists: true}},
		{`include < "with space" >`, &profiles.Include{Path: "with space", Angle: true}},
		{`unsafe px /foo,`, &profiles.Raw{Text: "unsafe px /foo,"}},
		{"audit {\n  /x r,\n  # c\n}", &profiles.Raw{Text: "audit {\n  /x r,\n  # c\n}"}},
		{"if $foo {\n  /x r,\n} else {\n  /y r,\n}", &profiles.Raw{Text: "if $foo {\n  /x r,\n} else {\n  /y r,\n}"}},
		{`all,`, &profiles.Raw{Text: "all,"}},
		{`priority=1 /x r,`, &profiles.Raw{Text: "priority=1 /x r,"}},
		{"^hat {\n  /x r,\n}", &profiles.Profile{Keyword: "^", Name: "hat", Rules: []profiles.Node{&profiles.FileRule{Path: "/x", Perms: "r"}}}},
		{"hat h flags=(complain) {\n}", &profiles.Profile{Keyword: "hat", Name: "h", Flags: []string{"complain"}}},
		{"profile child /usr/bin/child {\n}", &profiles.Profile{Keyword: "profile", Name: "child", Attachment: "/usr/bin/child"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			nodes := parseBody(t, tt.src)
			require.Len(t, nodes, 1)
			assert.Equal(t, tt.want, nodes[0])
		})
	}
}

func TestPreamble(t *testing.T) {
	src := `abi <abi/3.0>,
@{HOME}=@{HOMEDIRS}/*/ /root/
@{x} += "a b" {c,d} \
   e
$flag = true
alias /usr/ -> /mnt/usr/,
include if exists <tunables/home.d>
`
	f, err := Parse("t", []byte(src))
	require.NoError(t, err)
	clearMeta(f.Items)
	assert.Equal(t, []profiles.Node{
		&profiles.Abi{Path: "abi/3.0", Angle: true},
		&profiles.Variable{Name: "HOME", Values: []string{"@{HOMEDIRS}/*/", "/root/"}},
		&profiles.Variable{Name: "x", Append: true, Values: []string{"a b", "{c,d}", "e"}},
		&profiles.Raw{Text: "$flag = true"},
		&profiles.Alias{From: "/usr/", To: "/mnt/usr/"},
		&profiles.Include{Path: "tunables/home.d", Angle: true, IfExists: true},
	}, f.Items)
}

func TestProfileHeaders(t *testing.T) {
	tests := []struct {
		src  string
		want *profiles.Profile
	}{
		{"/usr/bin/man {\n}", &profiles.Profile{Attachment: "/usr/bin/man"}},
		{`"/opt/my app/bin" {}`, &profiles.Profile{Attachment: "/opt/my app/bin"}},
		{"profile foo {}", &profiles.Profile{Keyword: "profile", Name: "foo"}},
		{"profile foo /usr/bin/foo flags=complain {}", &profiles.Profile{Keyword: "profile", Name: "foo", Attachment: "/usr/bin/foo", Flags: []string{"complain"}}},
		{"profile foo flags=(complain, attach_disconnected) {}", &profiles.Profile{Keyword: "profile", Name: "foo", Flags: []string{"complain", "attach_disconnected"}}},
		{"/x (complain audit) {}", &profiles.Profile{Attachment: "/x", Flags: []string{"complain", "audit"}}},
		{"/foo//local1 /** {}", &profiles.Profile{Name: "/foo//local1", Attachment: "/**"}},
		{"profile x /x xattrs=(user.foo=bar security.y) {}", &profiles.Profile{Keyword: "profile", Name: "x", Attachment: "/x",
			Xattrs: []profiles.Cond{{Key: "user.foo", Values: []string{"bar"}}, {Key: "security.y"}}}},
		{":ns:/usr/bin/x {}", &profiles.Profile{Name: ":ns:/usr/bin/x"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			f, err := Parse("t", []byte(tt.src))
			require.NoError(t, err)
			clearMeta(f.Items)
			require.Len(t, f.Items, 1)
			assert.Equal(t, tt.want, f.Items[0])
		})
	}
}

func TestComments(t *testing.T) {
	src := `# header
# more header

# about base
#include <abstractions/base>
/x {
  # above r
  /r r, # trailing r

  # alone

  # above w 1
  # above w 2
  /w w,
  /e r,   # trailing e
  # inside
  dbus send # mid-rule
     bus=system,
  # last
} # after profile
# end
`
	f, err := Parse("t", []byte(src))
	require.NoError(t, err)
	require.Len(t, f.Items, 5)
	assert.Equal(t, "# header", f.Items[0].(*profiles.Comment).Text)
	assert.Equal(t, "# more header", f.Items[1].(*profiles.Comment).Text)
	inc := f.Items[2].(*profiles.Include)
	assert.Equal(t, []string{"# about base"}, inc.Comments)
	p := f.Items[3].(*profiles.Profile)
	assert.Equal(t, "# after profile", p.Trailing)
	assert.Equal(t, "# end", f.Items[4].(*profiles.Comment).Text)

	require.Len(t, p.Rules, 6)
	r := p.Rules[0].(*profiles.FileRule)
	assert.Equal(t, []string{"# above r"}, r.Comments)
	assert.Equal(t, "# trailing r", r.Trailing)
	assert.Equal(t, "# alone", p.Rules[1].(*profiles.Comment).Text)
	w := p.Rules[2].(*profiles.FileRule)
	assert.Equal(t, []string{"# above w 1", "# above w 2"}, w.Comments)
	assert.Empty(t, w.Trailing)
	e := p.Rules[3].(*profiles.FileRule)
	assert.Nil(t, e.Comments)
	assert.Equal(t, "# trailing e", e.Trailing)
	d := p.Rules[4].(*profiles.ClassRule)
	assert.Equal(t, []string{"# inside", "# mid-rule"}, d.Comments, "a comment inside a rule is kept with it")
	assert.Equal(t, "# last", p.Rules[5].(*profiles.Comment).Text)
}
