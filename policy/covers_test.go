package policy_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

const etcApparmor = "/etc/apparmor.d"

// dirLoader resolves includes against a profile directory, as
// apparmor_parser -I DIR would: <x> in dir, "x" relative to the including
// file, a directory includes every regular file in it.
func dirLoader(dir string) profiles.IncludeLoader {
	return func(inc *profiles.Include, from string) ([]*profiles.File, error) {
		p := inc.Path
		if !filepath.IsAbs(p) {
			if inc.Angle || from == "" {
				p = filepath.Join(dir, p)
			} else {
				p = filepath.Join(filepath.Dir(from), p)
			}
		}
		st, err := os.Stat(p)
		if err != nil {
			if inc.IfExists && os.IsNotExist(err) {
				return nil, nil
			}
			return nil, err
		}
		if !st.IsDir() {
			f, err := parser.ParseFile(p)
			if err != nil {
				return nil, err
			}
			return []*profiles.File{f}, nil
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			return nil, err
		}
		var out []*profiles.File
		for _, e := range entries {
			if !e.Type().IsRegular() || strings.HasPrefix(e.Name(), ".") {
				continue
			}
			f, err := parser.ParseFile(filepath.Join(p, e.Name()))
			if err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
}

func file(path, perms string) policy.Access {
	return policy.Access{Class: policy.ClassFile, Path: path, Perms: perms}
}

func TestRuleCovers(t *testing.T) {
	vars := profiles.Vars{
		"HOME":     {"@{HOMEDIRS}/*/", "/root/"},
		"HOMEDIRS": {"/home/"},
		"PROC":     {"/proc/"},
		"pid":      {"{[1-9],[1-9][0-9],[1-9][0-9][0-9]}"},
	}
	owned := func(a policy.Access) policy.Access { a.Owner = true; return a }
	withTarget := func(a policy.Access, tg string) policy.Access { a.Target = tg; return a }
	tests := []struct {
		rule string
		a    policy.Access
		want bool
	}{
		// permissions
		{"/etc/hosts r,", file("/etc/hosts", "r"), true},
		{"/etc/hosts r,", file("/etc/hosts", "w"), false},
		{"/etc/hosts r,", file("/etc/hosts", "rw"), false},
		{"/var/log/x w,", file("/var/log/x", "a"), true},  // a is covered by w
		{"/var/log/x a,", file("/var/log/x", "w"), false}, // but not the reverse
		{"/var/log/x w,", file("/var/log/x", "c"), true},  // create and delete are writes
		{"/var/log/x w,", file("/var/log/x", "d"), true},
		{"/lib/x.so mr,", file("/lib/x.so", "m"), true},
		{"/lib/x.so r,", file("/lib/x.so", "m"), false},
		{"/run/x.lock k,", file("/run/x.lock", "k"), true},
		{"/run/x rwk,", file("/run/x", "rk"), true},
		// globs
		{"/etc/** r,", file("/etc/ssl/certs/ca.pem", "r"), true},
		{"/etc/* r,", file("/etc/ssl/certs/ca.pem", "r"), false},
		{"/etc/* r,", file("/etc/", "r"), false},
		{"/etc/ r,", file("/etc", "r"), false}, // a directory rule is not the file
		{"/tmp/*/ r,", file("/tmp/d/", "r"), true},
		{"/tmp/* r,", file("/tmp/.X0-lock", "r"), true},
		{`/tmp/a\*b r,`, file("/tmp/a*b", "r"), true},
		{`/tmp/a\*b r,`, file("/tmp/axb", "r"), false},
		// variables
		{"@{HOME}/.ssh/** r,", file("/home/al/.ssh/id_rsa", "r"), true},
		{"@{HOME}/.ssh/** r,", file("/root/.ssh/id_rsa", "r"), true},
		{"@{HOME}/.ssh/** r,", file("/srv/.ssh/id_rsa", "r"), false},
		{"@{PROC}/@{pid}/stat r,", file("/proc/1234/stat", "r"), false}, // pid above 999 not in this test's @{pid}
		{"@{PROC}/@{pid}/stat r,", file("/proc/123/stat", "r"), true},
		{"@{UNDEFINED}/x r,", file("/x", "r"), false},
		// owner / other
		{"owner /tmp/** rw,", file("/tmp/x", "r"), false},
		{"owner /tmp/** rw,", owned(file("/tmp/x", "r")), true},
		{"other /tmp/** r,", owned(file("/tmp/x", "r")), false},
		{"audit /etc/hosts r,", file("/etc/hosts", "r"), true},
		// deny allows nothing
		{"deny /etc/shadow r,", file("/etc/shadow", "r"), false},
		// exec
		{"/usr/bin/ls ix,", file("/usr/bin/ls", "x"), true},
		{"/usr/bin/ls ix,", file("/usr/bin/ls", "rx"), false},
		{"/usr/bin/ls rix,", file("/usr/bin/ls", "rx"), true},
		{"/usr/bin/foo px,", withTarget(file("/usr/bin/foo", "x"), "/usr/bin/foo"), true},
		{"/usr/bin/foo px -> bar,", withTarget(file("/usr/bin/foo", "x"), "bar"), true},
		{"/usr/bin/foo px -> bar,", withTarget(file("/usr/bin/foo", "x"), "baz"), false},
		{"/usr/bin/foo px -> bar,", file("/usr/bin/foo", "x"), true},
		{"/usr/bin/foo cx -> child,", withTarget(file("/usr/bin/foo", "x"), "t//child"), true},
		{"/usr/bin/foo Ux,", file("/usr/bin/foo", "x"), true},
		{"/usr/bin/foo r,", file("/usr/bin/foo", "x"), false},
		// bare file
		{"file,", file("/anything/at/all", "rwk"), true},
		// links
		{"link /a -> /b,", policy.Access{Class: policy.ClassLink, Path: "/a", Target: "/b"}, true},
		{"link /a -> /b,", policy.Access{Class: policy.ClassLink, Path: "/a", Target: "/c"}, false},
		{"/a l,", policy.Access{Class: policy.ClassLink, Path: "/a", Target: "/c"}, true},
		{"/a l,", file("/a", "l"), true},
		// capability
		{"capability,", policy.Access{Class: "capability", Capability: "sys_admin"}, true},
		{"capability net_bind_service,", policy.Access{Class: "capability", Capability: "net_bind_service"}, true},
		{"capability net_bind_service setuid,", policy.Access{Class: "capability", Capability: "setuid"}, true},
		{"capability net_bind_service,", policy.Access{Class: "capability", Capability: "net_raw"}, false},
		// network
		{"network,", policy.Access{Class: "network", Family: "inet", SockType: "stream", Protocol: "6"}, true},
		{"network inet,", policy.Access{Class: "network", Family: "inet", SockType: "dgram", Protocol: "17"}, true},
		{"network inet,", policy.Access{Class: "network", Family: "inet6", SockType: "dgram"}, false},
		{"network inet stream,", policy.Access{Class: "network", Family: "inet", SockType: "stream", Protocol: "6"}, true},
		{"network inet stream,", policy.Access{Class: "network", Family: "inet", SockType: "dgram", Protocol: "17"}, false},
		{"network inet tcp,", policy.Access{Class: "network", Family: "inet", SockType: "stream", Protocol: "6"}, true},
		{"network inet tcp,", policy.Access{Class: "network", Family: "inet", SockType: "stream", Protocol: "tcp"}, true},
		{"network inet udp,", policy.Access{Class: "network", Family: "inet", SockType: "stream", Protocol: "6"}, false},
		{"network netlink raw,", policy.Access{Class: "network", Family: "netlink", SockType: "raw", Protocol: "15"}, true},
		{"network inet,", policy.Access{Class: "capability", Capability: "net_raw"}, false},
		// signal
		{"signal,", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "term", Peer: "x"}, true},
		{"signal (send) set=(term, kill) peer=foo,", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "term", Peer: "foo"}, true},
		{"signal (send) set=(term, kill) peer=foo,", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "hup", Peer: "foo"}, false},
		{"signal (send) set=(term, kill) peer=foo,", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "term", Peer: "bar"}, false},
		{"signal (send) set=(term, kill) peer=foo,", policy.Access{Class: "signal", Access: []string{"receive"}, Signal: "term", Peer: "foo"}, false},
		{"signal (receive) peer=unconfined,", policy.Access{Class: "signal", Access: []string{"receive"}, Signal: "term", Peer: "unconfined"}, true},
		{"signal peer=/usr/sbin/*,", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "term", Peer: "/usr/sbin/cron"}, true},
		// ptrace
		{"ptrace (read) peer=bar,", policy.Access{Class: "ptrace", Access: []string{"read"}, Peer: "bar"}, true},
		{"ptrace (read) peer=bar,", policy.Access{Class: "ptrace", Access: []string{"trace"}, Peer: "bar"}, false},
		{"ptrace,", policy.Access{Class: "ptrace", Access: []string{"trace"}, Peer: "bar"}, true},
		// unix
		{"unix,", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", Path: "@/x"}, true},
		{"unix (connect, send) type=stream,", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream"}, true},
		{"unix (connect, send) type=stream,", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "dgram"}, false},
		{"unix (connect) type=stream peer=(label=bar),", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", Peer: "bar"}, true},
		{"unix (connect) type=stream peer=(label=bar),", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", Peer: "baz"}, false},
		{`unix (connect) type=stream peer=(addr="@/tmp/x"),`, policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", PeerAddr: "@/tmp/x"}, true},
		{`unix (connect) type=stream peer=(addr="@/tmp/x"),`, policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", PeerAddr: "@/tmp/y"}, false},
		{"unix (connect) type=stream opt=foo,", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream"}, false}, // unknown condition
		// addr=none: unnamed sockets, and sockets bound to a path (the
		// kernel does not match a path socket's address against the rule)
		{"unix (bind) type=stream addr=none,", policy.Access{Class: "unix", Access: []string{"bind"}, SockType: "stream", Path: "/tmp/aatest/sock"}, true},
		{"unix (create) type=stream addr=none,", policy.Access{Class: "unix", Access: []string{"create"}, SockType: "stream"}, true},
		{"unix (bind) type=stream addr=none,", policy.Access{Class: "unix", Access: []string{"bind"}, SockType: "stream", Path: "@aatest"}, false},
		{"unix (bind) type=stream addr=@aatest,", policy.Access{Class: "unix", Access: []string{"bind"}, SockType: "stream", Path: "/tmp/aatest/sock"}, false},
		{"unix (bind) type=stream addr=@aatest,", policy.Access{Class: "unix", Access: []string{"bind"}, SockType: "stream"}, false},
		{"unix (connect) type=stream addr=none,", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", PeerAddr: "/tmp/aatest/sock"}, true},
		{"unix (connect) type=dgram addr=none,", policy.Access{Class: "unix", Access: []string{"connect"}, SockType: "stream", Path: "/tmp/aatest/sock"}, false},
		// dbus
		{"dbus,", policy.Access{Class: "dbus", Access: []string{"send"}, Bus: "system"}, true},
		{"dbus (send) bus=system path=/org/x member=Y peer=(name=org.x),", policy.Access{Class: "dbus", Access: []string{"send"}, Bus: "system", DbusPath: "/org/x", Member: "Y", PeerName: "org.x"}, true},
		{"dbus (send) bus=system path=/org/x member=Y peer=(name=org.x),", policy.Access{Class: "dbus", Access: []string{"send"}, Bus: "session", DbusPath: "/org/x", Member: "Y", PeerName: "org.x"}, false},
		{"dbus (send) bus=system path=/org/x/** ,", policy.Access{Class: "dbus", Access: []string{"send"}, Bus: "system", DbusPath: "/org/x/y"}, true},
		{"dbus (receive) bus=system,", policy.Access{Class: "dbus", Access: []string{"send"}, Bus: "system"}, false},
		// mount
		// mount: Path is the mount point, Target the source
		{"mount,", policy.Access{Class: "mount", Path: "/mnt/", Target: "/dev/sda1", Fstype: "ext4"}, true},
		{"mount options=(ro, bind) /src/ -> /dst/,", policy.Access{Class: "mount", Path: "/dst/", Target: "/src/", Flags: []string{"ro", "bind"}}, true},
		{"mount options=(ro, bind) /src/ -> /dst/,", policy.Access{Class: "mount", Path: "/src/", Target: "/dst/", Flags: []string{"ro", "bind"}}, false},
		{"mount options=(ro, bind) /src/ -> /dst/,", policy.Access{Class: "mount", Path: "/dst/", Target: "/src/", Flags: []string{"rw", "bind"}}, false},
		{"mount options=(ro, bind) /src/ -> /dst/,", policy.Access{Class: "mount", Path: "/dst/", Target: "/src/", Flags: []string{"ro"}}, false},
		{"mount options in (ro, bind) /src/ -> /dst/,", policy.Access{Class: "mount", Path: "/dst/", Target: "/src/", Flags: []string{"bind"}}, true},
		{"mount fstype=ext4 -> /mnt/**,", policy.Access{Class: "mount", Path: "/mnt/a/", Target: "/dev/sda1", Fstype: "ext4"}, true},
		{"mount fstype=ext4 -> /mnt/**,", policy.Access{Class: "mount", Path: "/mnt/a/", Target: "/dev/sda1", Fstype: "xfs"}, false},
		{"mount fstype=ext4 /dev/sd* -> /mnt/**,", policy.Access{Class: "mount", Path: "/mnt/a/", Target: "/dev/sda1", Fstype: "ext4"}, true},
		{"mount fstype=ext4 /dev/sd* -> /mnt/**,", policy.Access{Class: "mount", Path: "/mnt/a/", Target: "/dev/vda1", Fstype: "ext4"}, false},
		{"remount /mnt/a/,", policy.Access{Class: "remount", Path: "/mnt/a/"}, true},
		{"umount /mnt/,", policy.Access{Class: "umount", Path: "/mnt/"}, true},
		{"umount /mnt/,", policy.Access{Class: "umount", Path: "/srv/"}, false},
		// change_profile
		{"change_profile -> foo,", policy.Access{Class: "change_profile", Target: "foo"}, true},
		{"change_profile -> foo,", policy.Access{Class: "change_profile", Target: "bar"}, false},
		{"change_profile,", policy.Access{Class: "change_profile", Target: "bar"}, true},
	}
	for _, tt := range tests {
		rule := profiletest.FirstRule(t, tt.rule)
		assert.Equal(t, tt.want, policy.RuleCovers(rule, tt.a, vars), "%s covers %+v", tt.rule, tt.a)
	}
}

func TestRuleMatchesDeny(t *testing.T) {
	m := policy.NewMatcher(nil)
	deny := profiletest.FirstRule(t, "deny /etc/shadow w,")
	assert.True(t, m.RuleMatches(deny, file("/etc/shadow", "rw")), "a deny rule applies when it names any requested permission")
	assert.True(t, m.RuleMatches(deny, file("/etc/shadow", "a")), "deny w also refuses append")
	assert.False(t, m.RuleMatches(deny, file("/etc/shadow", "r")))
	assert.False(t, m.RuleCovers(deny, file("/etc/shadow", "w")))
}

const svcProfile = `include <tunables/global>

@{svc_data} = /srv/svc/ /var/lib/svc/
@{svc_data} += /opt/svc/data/

profile svc /usr/bin/svc {
  include <abstractions/base>
  include if exists <local/does-not-exist>

  @{svc_data}/** rw,
  deny @{svc_data}/secret/** w,
  owner @{HOME}/.config/svc/** r,
  /etc/svc/* r,
  /etc/svc/conf.d/ r,
  /usr/bin/helper px -> helper,
  /usr/bin/ls ix,
  link subset /srv/svc/ln -> /srv/svc/**,
  link /srv/svc/hard -> /etc/hostname,
  link subset /srv/svc/ln2 -> /etc/**,
  network inet stream,
  capability net_bind_service,
  signal (send) peer=svc//child,
  signal (receive) peer=svc//child,
  deny signal (receive) set=(kill) peer=svc//child,

  profile child {
    /child/only r,
  }
}
`

func svcPolicy(t *testing.T) *policy.Policy {
	t.Helper()
	if _, err := os.Stat(filepath.Join(etcApparmor, "abstractions/base")); err != nil {
		t.Fatalf("the test needs Debian's apparmor profiles (make deps): %v", err)
	}
	p, err := policy.NewPolicy(profiletest.Parse(t, svcProfile), "svc", dirLoader(etcApparmor))
	require.NoError(t, err)
	return p
}

func TestPolicyCovers(t *testing.T) {
	p := svcPolicy(t)
	owned := func(a policy.Access) policy.Access { a.Owner = true; return a }
	tests := []struct {
		name string
		a    policy.Access
		want bool
	}{
		{"abstractions/base: libc", file("/usr/lib/x86_64-linux-gnu/libc.so.6", "mr"), true},
		{"abstractions/base: ld.so.cache", file("/etc/ld.so.cache", "mr"), true},
		{"abstractions/base: /dev/null", file("/dev/null", "rw"), true},
		{"abstractions/base: /proc/PID/maps", file("/proc/4242/maps", "r"), true},
		{"abstractions/base does not give /etc/shadow", file("/etc/shadow", "r"), false},
		{"abstractions/base does not give writing libc", file("/usr/lib/x86_64-linux-gnu/libc.so.6", "w"), false},
		{"variable with +=", file("/opt/svc/data/x/y", "rw"), true},
		{"variable first value", file("/srv/svc/a", "w"), true},
		{"deny subtracts", file("/srv/svc/secret/k", "w"), false},
		{"deny subtracts only its permissions", file("/srv/svc/secret/k", "r"), true},
		{"deny subtracts from a mixed request", file("/srv/svc/secret/k", "rw"), false},
		{"owner rule without ownership", file("/home/al/.config/svc/x", "r"), false},
		{"owner rule with ownership (HOME from tunables)", owned(file("/home/al/.config/svc/x", "r")), true},
		{"/etc/svc/* is not the directory", file("/etc/svc/", "r"), false},
		{"/etc/svc/* is not the subdirectory's files", file("/etc/svc/conf.d/a.conf", "r"), false},
		{"directory rule", file("/etc/svc/conf.d/", "r"), true},
		{"exec px to its target", policy.Access{Class: "file", Path: "/usr/bin/helper", Perms: "x", Target: "helper"}, true},
		{"exec px to another target", policy.Access{Class: "file", Path: "/usr/bin/helper", Perms: "x", Target: "other"}, false},
		{"exec ix", file("/usr/bin/ls", "x"), true},
		{"exec without a rule", file("/usr/bin/cat", "x"), false},
		{"link subset: target grants as much", policy.Access{Class: "link", Path: "/srv/svc/ln", Target: "/srv/svc/data"}, true},
		{"link subset: the link would grant w the target lacks", policy.Access{Class: "link", Path: "/srv/svc/ln2", Target: "/etc/hostname"}, false},
		{"link without subset to a read-only target", policy.Access{Class: "link", Path: "/srv/svc/hard", Target: "/etc/hostname"}, true},
		{"link to an unnamed target", policy.Access{Class: "link", Path: "/srv/svc/hard", Target: "/etc/passwd"}, false},
		{"network", policy.Access{Class: "network", Family: "inet", SockType: "stream", Protocol: "6"}, true},
		{"network other type", policy.Access{Class: "network", Family: "inet", SockType: "dgram", Protocol: "17"}, false},
		{"capability", policy.Access{Class: "capability", Capability: "net_bind_service"}, true},
		{"capability not granted", policy.Access{Class: "capability", Capability: "sys_admin"}, false},
		{"signal words from two rules", policy.Access{Class: "signal", Access: []string{"send", "receive"}, Signal: "term", Peer: "svc//child"}, true},
		{"signal word denied for one signal", policy.Access{Class: "signal", Access: []string{"send", "receive"}, Signal: "kill", Peer: "svc//child"}, false},
		{"signal send of kill is not denied", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "kill", Peer: "svc//child"}, true},
		{"signal to another peer", policy.Access{Class: "signal", Access: []string{"send"}, Signal: "term", Peer: "other"}, false},
		{"child profile rules are not the parent's", file("/child/only", "r"), false},
		{"empty request", file("/etc/svc/a", ""), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, p.Covers(tt.a), tt.name)
	}
}

func TestPolicyChildProfile(t *testing.T) {
	p, err := policy.NewPolicy(profiletest.Parse(t, svcProfile), "svc//child", dirLoader(etcApparmor))
	require.NoError(t, err)
	assert.True(t, p.Covers(file("/child/only", "r")))
	assert.False(t, p.Covers(file("/etc/svc/a", "r")))
	_, err = policy.NewPolicy(profiletest.Parse(t, svcProfile), "nope", nil)
	assert.ErrorContains(t, err, `no profile "nope"`)
}

func TestPolicyExplain(t *testing.T) {
	p := svcPolicy(t)
	got := p.Explain(file("/usr/lib/x86_64-linux-gnu/libc.so.6", "mr"))
	require.NotEmpty(t, got)
	var where []string
	for _, n := range got {
		where = append(where, filepath.Base(n.NodeMeta().Pos.File))
	}
	sort.Strings(where)
	assert.Contains(t, where, "base", "libc is explained by abstractions/base")

	got = p.Explain(file("/srv/svc/secret/k", "w"))
	require.Len(t, got, 2, "the allow rule, then the deny rule")
	assert.False(t, got[0].(*profiles.FileRule).Q.Deny)
	assert.True(t, got[1].(*profiles.FileRule).Q.Deny)

	assert.Empty(t, p.Explain(file("/nowhere", "r")))
}

func TestPolicyIncludeErrors(t *testing.T) {
	f := profiletest.Parse(t, "profile t {\n  include <abstractions/missing-for-sure>\n}\n")
	_, err := policy.NewPolicy(f, "t", dirLoader(etcApparmor))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "test.profile:2:3", "the error names the include's position")

	// an include cycle is followed once
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a"), []byte("include <b>\n/a r,\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "b"), []byte("include <a>\n/b r,\n"), 0o644))
	f = profiletest.Parse(t, "profile t {\n  include <a>\n}\n")
	p, err := policy.NewPolicy(f, "t", dirLoader(dir))
	require.NoError(t, err)
	assert.True(t, p.Covers(file("/a", "r")))
	assert.True(t, p.Covers(file("/b", "r")))
}

func BenchmarkPolicyCovers(b *testing.B) {
	f, err := parser.Parse("bench.profile", []byte(svcProfile))
	require.NoError(b, err)
	p, err := policy.NewPolicy(f, "svc", dirLoader(etcApparmor))
	require.NoError(b, err)
	accesses := []policy.Access{
		file("/usr/lib/x86_64-linux-gnu/libc.so.6", "mr"),
		file("/etc/shadow", "r"),
		file("/srv/svc/data/x", "rw"),
		{Class: "network", Family: "inet", SockType: "stream", Protocol: "6"},
	}
	b.ReportMetric(float64(len(p.Rules)), "rules")
	for b.Loop() {
		for _, a := range accesses {
			p.Covers(a)
		}
	}
}
