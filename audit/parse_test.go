package audit

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseForms(t *testing.T) {
	const body = `apparmor="DENIED" operation="open" class="file" profile="/usr/bin/foo" name="/etc/shadow" pid=42 comm="foo" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	stamp := time.Unix(1462045985, 636*int64(time.Millisecond)).UTC()
	for _, tc := range []struct {
		name, line string
	}{
		{"audit.log", `type=AVC msg=audit(1462045985.636:2154): ` + body},
		{"audit.log numeric", `type=1400 msg=audit(1462045985.636:2154): ` + body},
		{"enriched node", `node=web1 type=AVC msg=audit(1462045985.636:2154): ` + body + "\x1dFSUID=\"root\" OUID=\"root\""},
		{"syslog uptime", `Apr 30 21:53:05 nova kernel: [24668.960760] audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"syslog no uptime", `Apr 30 21:53:05 nova kernel: audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"rsyslog iso", `2026-11-22T10:00:00.123456+00:00 host kernel: audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"kern.notice", `2021-09-11T20:57:41.91645 kern.notice: [  469.180605] audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"kernel kern.notice", `Apr 30 21:53:05 nova kernel: kern.notice: audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"dmesg", `[   12.345678] audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"kmsg", `5,1234,5678901,-;audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"journalctl -o cat", `audit: type=1400 audit(1462045985.636:2154): ` + body},
		{"crlf", `type=AVC msg=audit(1462045985.636:2154): ` + body + "\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := Parse([]byte(tc.line))
			require.NoError(t, err)
			require.NotNil(t, rec)
			require.NotNil(t, rec.Event)
			e := rec.Event
			assert.Equal(t, ModeDenied, e.Mode)
			assert.Equal(t, "open", e.Operation)
			assert.Equal(t, "file", e.Class)
			assert.Equal(t, "/usr/bin/foo", e.Profile)
			assert.Equal(t, "/etc/shadow", e.Name)
			assert.Equal(t, int64(42), e.PID)
			assert.Equal(t, "foo", e.Comm)
			assert.Equal(t, "r", e.RequestedMask)
			assert.Equal(t, "r", e.DeniedMask)
			assert.Equal(t, int64(0), e.FSUID)
			assert.Equal(t, int64(0), e.OUID)
			assert.Equal(t, stamp, e.Time)
			assert.Equal(t, uint64(2154), e.Serial)
			assert.Equal(t, "1462045985.636:2154", e.ID())
			assert.Equal(t, TypeAVC, e.Type)
		})
	}
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		check      func(t *testing.T, e *Event)
	}{
		{"hex peer", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="signal" profile="p" pid=1 comm="c" requested_mask="send" denied_mask="send" signal=kill peer=2F7573722F62696E2F6120622F`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, "/usr/bin/a b/", e.Peer)
				assert.Equal(t, "kill", e.Signal)
			}},
		{"hex everywhere", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile=74657374207370616365 label=4C2031 name=2F746D702F6120622F name2=2F2078 target=742031 comm=6D792070726F67 info=6920`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, []string{"test space", "L 1", "/tmp/a b/", "/ x", "t 1", "my prog", "i "},
					[]string{e.Profile, e.Label, e.Name, e.Name2, e.Target, e.Comm, e.Info})
			}},
		{"empty value does not eat the next key", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="change_profile" profile="p" target= pid=9 comm="c"`,
			func(t *testing.T, e *Event) {
				assert.Empty(t, e.Target)
				assert.Equal(t, int64(9), e.PID)
				assert.Equal(t, "c", e.Comm)
			}},
		{"empty value at end", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="change_profile" profile="p" target=`,
			func(t *testing.T, e *Event) { assert.Empty(t, e.Target); assert.Equal(t, "p", e.Profile) }},
		{"capability two spaces", `[ 1.0] audit: type=1400 audit(1.000:1): apparmor="DENIED" operation="capable" profile="p" pid=2 comm="c" capability=23  capname="sys_nice"`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, int64(23), e.Capability)
				assert.Equal(t, "sys_nice", e.Capname)
			}},
		{"0x1d enriched fields", "type=AVC msg=audit(1.000:1): apparmor=\"ALLOWED\" operation=\"open\" profile=\"p\" name=\"/x\" fsuid=1000 ouid=0\x1dFSUID=\"otis\" OUID=\"root\"",
			func(t *testing.T, e *Event) {
				assert.Equal(t, int64(1000), e.FSUID)
				assert.Equal(t, int64(0), e.OUID)
				assert.Equal(t, []KV{{"FSUID", "otis"}, {"OUID", "root"}}, e.Extra)
			}},
		{"USER_AVC takes the fields inside msg", `type=USER_AVC msg=audit(1375323372.644:157): pid=363 uid=102 auid=4294967295 ses=4294967295  msg='apparmor="DENIED" operation="dbus_method_call"  bus="system" name="org.freedesktop.DBus" mask="send" pid=2833 profile="/p" peer_profile="unconfined"  exe="/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, TypeUserAVC, e.Type)
				assert.Equal(t, int64(2833), e.PID)
				assert.Equal(t, "system", e.Bus)
				assert.Equal(t, "send", e.RequestedMask)
				assert.Equal(t, "/bin/dbus-daemon", e.Exe)
				assert.Empty(t, e.Addr)
			}},
		{"USER_AVC: the sender as the kernel records it", `type=USER_AVC msg=audit(1375323372.644:157): pid=363 uid=102 auid=4294967295 ses=4294967295 subj=/usr/bin/dbus-daemon (enforce) msg='apparmor="DENIED" operation="dbus_bind" bus="system" name="x" mask="bind" pid=2838 label="/p" exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, int64(363), e.SenderPID)
				assert.Equal(t, int64(102), e.SenderUID)
				assert.Equal(t, "/usr/bin/dbus-daemon (enforce)", e.SenderLabel)
				assert.Equal(t, int64(2838), e.PID)
			}},
		{"an AVC has no sender", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" profile="p" name="/x" pid=7`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, int64(Unset), e.SenderPID)
				assert.Equal(t, int64(Unset), e.SenderUID)
				assert.Empty(t, e.SenderLabel)
			}},
		{"dbus-daemon syslog without audit stamp", `Jul 31 17:11:16 host dbus[1692]: apparmor="DENIED" operation="dbus_bind"  bus="session" name="com.apparmor.Test" mask="bind" pid=2940 profile="/p"`,
			func(t *testing.T, e *Event) {
				assert.Zero(t, e.Serial)
				assert.True(t, e.Time.IsZero())
				assert.Equal(t, "com.apparmor.Test", e.Name)
			}},
		{"dbus-daemon ISO syslog line takes the syslog time", `2026-02-11T17:49:21.719707+01:00 host dbus-daemon[3217]: apparmor="DENIED" operation="dbus_method_call"  bus="session" name="org.freedesktop.DBus" mask="send" pid=1234 profile="p"`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, time.Date(2026, 2, 11, 16, 49, 21, 719e6, time.UTC), e.Time)
				assert.Zero(t, e.Serial)
			}},
		{"type=1503 without apparmor=", `Aug 24 10:34:43 h kernel: [45334.755142] type=1503 audit(1282671283.411:2199):  operation="mkdir" pid=4786 profile="/usr/sbin/sshd//ubuntu" requested_mask="c::" name="/tmp/x/"`,
			func(t *testing.T, e *Event) { assert.Equal(t, ModeDenied, e.Mode); assert.Equal(t, 1503, e.Type) }},
		{"type=APPARMOR_ALLOWED", `type=APPARMOR_ALLOWED msg=audit(1.000:1): operation="open" name="/x" pid=1 profile="p"`,
			func(t *testing.T, e *Event) { assert.Equal(t, ModeAllowed, e.Mode) }},
		{"type=UNKNOWN[1505]", `type=UNKNOWN[1505] msg=audit(1.000:1): operation="profile_load" name="p" pid=1`,
			func(t *testing.T, e *Event) { assert.Equal(t, ModeStatus, e.Mode) }},
		{"kill mode", `type=AVC msg=audit(1.000:1): apparmor="KILLED" operation="open" profile="p" name="/x"`,
			func(t *testing.T, e *Event) { assert.Equal(t, ModeKill, e.Mode) }},
		{"error=-1 is kept", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="change_hat" info="unconfined" error=-1 pid=2698`,
			func(t *testing.T, e *Event) { assert.True(t, e.HasError()); assert.Equal(t, int64(-1), e.Error) }},
		{"no error", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" pid=2698`,
			func(t *testing.T, e *Event) { assert.False(t, e.HasError()) }},
		{"unknown keys in order", `type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="x" zz="1" aa=2 hexed=2F6120`,
			func(t *testing.T, e *Event) {
				assert.Equal(t, []KV{{"zz", "1"}, {"aa", "2"}, {"hexed", "/a "}}, e.Extra)
			}},
		{"empty target= is kept as present", `type=AVC msg=audit(1494272099.261:3455): apparmor="DENIED" operation="ptrace" profile="/bin/netstat" pid=1962 comm="netstat" target=""`,
			func(t *testing.T, e *Event) { assert.True(t, e.TargetSet); assert.Empty(t, e.Target) }},
		{"no target=", `type=AVC msg=audit(1494272099.261:3455): apparmor="DENIED" operation="ptrace" profile="/bin/netstat" pid=1962 comm="netstat"`,
			func(t *testing.T, e *Event) { assert.False(t, e.TargetSet) }},
		{"milliseconds", `type=AVC msg=audit(1462045985.006:2): apparmor="DENIED" operation="open"`,
			func(t *testing.T, e *Event) { assert.Equal(t, "1462045985.006:2", e.ID()) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := Parse([]byte(tc.line))
			require.NoError(t, err)
			require.NotNil(t, rec)
			require.NotNil(t, rec.Event)
			require.Nil(t, rec.Companion)
			tc.check(t, rec.Event)
		})
	}
}

func TestParseSkips(t *testing.T) {
	for _, line := range []string{
		``,
		`Nov 22 10:00:00 host sshd[1]: Accepted publickey for root`,
		`type=AVC msg=audit(1.000:1): avc:  denied  { read } for  pid=1 comm="cat" name="x" scontext=a tcontext=b tclass=file`,
		`type=EXECVE msg=audit(1.000:1): argc=2 a0="echo" a1="apparmor=\"DENIED\""`,
		`[    0.000000] Command line: root=/dev/sda apparmor=1 security=apparmor`,
		`kernel=6.1.0 cmdline=console=ttyS0 apparmor=1`,
		`type=SYSCALL arch=c000003e syscall=2 exe="/bin/cat"`, // no serial to match
		`type=CWD msg=audit(1.000:1): cwd="/"`,
	} {
		rec, err := Parse([]byte(line))
		assert.NoError(t, err, line)
		assert.Nil(t, rec, line)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		line   string
		column int
		field  string
	}{
		{`type=AVC msg=audit(1.000:1): apparmor="DENIED" operation="open" name="/x`, 65, "name"},
		{`type=AVC msg=audit(12799====8288.415:39): apparmor="DENIED"`, 25, "audit"},
		{`type=AVC msg=audit(1.000:1): apparmor="DENIED" pid=12x`, 48, "pid"},
		{`type=AVC msg=audit(1.000:1): apparmor="DENIED" stray word=1`, 48, "stray"},
		{`type=AVC msg=audit(1.000:1): apparmor="" operation="x"`, 30, "apparmor"},
		{`type=APPARMOR msg=audit(1.000:1): REJECTING something odd`, 35, ""},
		// 2.x prose, which libapparmor does not decode either: the
		// kernel's record, unread, so reported rather than skipped.
		{`type=APPARMOR msg=audit(1157215966.604:46): REJECTING rw access to /bin/d f (s h(7902) profile /usr/sbin/x active hat)`, 45, ""},
		{`type=APPARMOR msg=audit(1168661976.062:55): LOGPROF-HINT unknown_hat TESTHAT pid=27764 profile=/p active=/p `, 45, ""},
		{`type=UNKNOWN[1500] msg=audit(1.000:1): PERMITTING r access to /x (t(1) profile p active p)`, 40, ""},
		{`type=APPARMOR msg=audit(1.000:1): operation="open" name="/x"`, 35, ""},
		// grep -H's FILE: prefix glues type= to other text.
		{`audit.log:type=AVC msg=audit(1630913351.586:4): apparmor="STATUS" info="AppArmor Filesystem Enabled" pid=1`, 1, "type"},
		{`type=SYSCALL msg=audit(1.000:1): syscall=1 exe="/a`, 44, "exe"},
	} {
		rec, err := Parse([]byte(tc.line))
		assert.Nil(t, rec, tc.line)
		var pe *ParseError
		if assert.ErrorAs(t, err, &pe, tc.line) {
			assert.Equal(t, tc.column, pe.Column, "%s: %v", tc.line, err)
			assert.Equal(t, tc.field, pe.Field, tc.line)
			assert.Contains(t, err.Error(), "column ")
		}
	}
}

func TestParseCompanions(t *testing.T) {
	rec, err := Parse([]byte(`[ 2.6] audit: type=1300 audit(1795343902.456:6): arch=c000003e syscall=1 success=yes comm="x" exe=2F746D702F6120622F subj=/usr/bin/x (enforce) key=(null)`))
	require.NoError(t, err)
	require.NotNil(t, rec.Companion)
	assert.Nil(t, rec.Event)
	assert.Equal(t, &Companion{Type: TypeSyscall, Time: time.Unix(1795343902, 456e6).UTC(), Serial: 6, Exe: "/tmp/a b/", Syscall: 1}, rec.Companion)

	rec, err = Parse([]byte(`type=SYSCALL msg=audit(11/22/2026 10:00:00.123:456) : arch=x86_64 syscall=openat exe=/usr/bin/x`))
	require.NoError(t, err, "ausearch -i form: the stamp is not SEC.MS")
	assert.Nil(t, rec, "a companion without a usable serial is skipped")

	rec, err = Parse([]byte(`type=SYSCALL msg=audit(1.000:456): arch=x86_64 syscall=openat exe=/usr/bin/x`))
	require.NoError(t, err)
	assert.Equal(t, int64(Unset), rec.Companion.Syscall, "a syscall name (ausearch -i) is not a number")
	assert.Equal(t, "/usr/bin/x", rec.Companion.Exe)

	rec, err = Parse([]byte(`type=PROCTITLE msg=audit(1795343902.456:6): proctitle="/usr/bin/aatest"`))
	require.NoError(t, err)
	assert.Equal(t, "/usr/bin/aatest", rec.Companion.Proctitle)
	assert.Equal(t, TypeProctitle, rec.Companion.Type)
}

func TestParseMessage(t *testing.T) {
	def := MessageDefaults{Time: time.Unix(1700000000, 5e8).UTC(), Serial: 77}
	rec, err := ParseMessage([]byte(`AVC apparmor="DENIED" operation="open" profile="p" name="/x" pid=3 comm="c"`), def)
	require.NoError(t, err)
	require.NotNil(t, rec.Event)
	assert.Equal(t, uint64(77), rec.Event.Serial)
	assert.Equal(t, def.Time, rec.Event.Time)
	assert.Equal(t, TypeAVC, rec.Event.Type)
	assert.Equal(t, "/x", rec.Event.Name)

	rec, err = ParseMessage([]byte(`SYSCALL arch=c000003e syscall=257 success=no exit=-13 exe="/usr/bin/c"`), def)
	require.NoError(t, err)
	require.NotNil(t, rec.Companion)
	assert.Equal(t, uint64(77), rec.Companion.Serial)
	assert.Equal(t, "/usr/bin/c", rec.Companion.Exe)

	rec, err = ParseMessage([]byte(`PROCTITLE proctitle=2F62696E2F6300782079`), def)
	require.NoError(t, err)
	assert.Equal(t, "/bin/c x y", rec.Companion.Proctitle)

	// A stamp in the message wins over the defaults.
	rec, err = ParseMessage([]byte(`audit: type=1400 audit(1462045985.636:2154): apparmor="ALLOWED" operation="open"`), def)
	require.NoError(t, err)
	assert.Equal(t, uint64(2154), rec.Event.Serial)

	rec, err = ParseMessage([]byte(`USER_LOGIN pid=1 uid=0 msg='op=login'`), def)
	assert.NoError(t, err)
	assert.Nil(t, rec)
}

// A label the kernel hex-encoded is text (a profile name with a space, or
// UTF-8); bytes no profile name holds are the freed memory of LP#1689667,
// and the record is refused, naming the field.
func TestParseUndecodableLabel(t *testing.T) {
	const head = `type=AVC msg=audit(1494272099.261:3455): apparmor="DENIED" operation="ptrace" profile="/bin/netstat" pid=1962 comm="netstat" `
	tests := []struct {
		name, rest, field, target string
	}{
		{"space", "target=2F62696E2F6120622F", "", "/bin/a b/"},
		{"utf-8", "target=636166C3A9", "", "café"},
		{"garbage", "target=8022C0FF81A0FFFF", "target", ""},
		{"control", "target=2F0A2F", "target", ""},
		{"peer garbage", "peer=C0FF", "peer", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Parse([]byte(head + tt.rest))
			if tt.field != "" {
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.field, pe.Field)
				assert.Nil(t, rec)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.target, rec.Event.Target)
		})
	}
	// A link's target= is a path, which may hold any bytes.
	rec, err := Parse([]byte(`type=AVC msg=audit(1494272099.261:3456): apparmor="DENIED" operation="link" profile="/bin/ln" name="/tmp/x" pid=1 comm="ln" requested_mask="l" denied_mask="l" fsuid=0 ouid=0 target=2FFF`))
	require.NoError(t, err)
	assert.Equal(t, "/\xff", rec.Event.Target)
}
