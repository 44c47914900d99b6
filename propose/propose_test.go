package propose_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// fileEvent is a complain-mode open record.
func fileEvent(name, mask string, pid int64, owner bool) *audit.Event {
	e := &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc", Name: name,
		RequestedMask: mask, DeniedMask: mask, FSUID: 0, OUID: 0, PID: pid, Comm: "svc",
		Time: t0.Add(time.Duration(pid) * time.Millisecond), Serial: uint64(pid), Source: "test.log", Line: int(pid),
		Protocol: audit.Unset, Capability: audit.Unset, Error: audit.Unset, PeerPID: audit.Unset}
	if !owner {
		e.OUID = 1000
	}
	return e
}

func texts(p *propose.Proposal) []string {
	var out []string
	for _, r := range p.Rules {
		out = append(out, r.Text)
	}
	return out
}

func tunablesVars() profiles.Vars {
	return profiles.Vars{"PROC": {"/proc/"}, "pid": {"{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9]}"}, "HOME": {"/home/*/", "/root/"}}
}

// A log with 1,000 /proc/<pid>/stat reads yields one rule, whose
// explanation counts the names and whose evidence counts every record.
func TestProposeProcPIDOneRule(t *testing.T) {
	var events []*audit.Event
	for pid := int64(1000); pid < 2000; pid++ {
		events = append(events, fileEvent(fmt.Sprintf("/proc/%d/stat", pid), "r", pid, true))
	}
	prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{Vars: tunablesVars()})
	require.NoError(t, err)
	require.Len(t, prop.Rules, 1)
	r := prop.Rules[0]
	assert.Equal(t, "owner @{PROC}/@{pid}/stat r,", r.Text)
	assert.Equal(t, propose.GenProcPID, r.Generalisation)
	// A thousand literal rules are no alternative: the explanation
	// counts them, three examples show them.
	assert.Empty(t, r.Replaces)
	assert.Empty(t, r.Literal)
	require.NotNil(t, r.Explain)
	assert.Equal(t, 1000, r.Explain.Names)
	assert.Equal(t, []string{"/proc/1000/stat", "/proc/1001/stat", "/proc/1002/stat"}, r.Explain.Examples)
	assert.Equal(t, []string{"pid"}, r.Explain.Shapes)
	assert.Equal(t, 1000, r.Evidence.Count)
	assert.Equal(t, t0.Add(1000*time.Millisecond), r.Evidence.First)
	assert.Equal(t, t0.Add(1999*time.Millisecond), r.Evidence.Last)
	assert.Equal(t, int64(1000), r.Evidence.PID)
	assert.Equal(t, "test.log:1000", r.Evidence.Source)
	assert.Equal(t, 1000, prop.Counts.ForProfile)
}

// A name from a log never becomes a glob: each rule compiles and allows
// its own name and nothing else.
func TestProposeNamesAreLiterals(t *testing.T) {
	names := []string{`/srv/x/*`, `/srv/x/{a,b}`, `/srv/x/a b`, `/srv/x/a,`, `/srv/x/@{HOME}`, `/srv/x/[ab]`, `/srv/x/a"q`}
	// The kernel hex-encodes names with spaces; decode one from its line.
	line := `type=AVC msg=audit(1700000000.000:7): apparmor="ALLOWED" operation="open" profile="svc" name=2F7372762F782F612062 pid=7 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=1`
	events := decodeAll([]byte(line), "hex.log")
	require.Len(t, events, 1)
	require.Equal(t, "/srv/x/a b", events[0].Name)
	for i, n := range names {
		if n != "/srv/x/a b" {
			events = append(events, fileEvent(n, "r", int64(i+10), false))
		}
	}
	prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{Vars: tunablesVars()})
	require.NoError(t, err)
	require.Len(t, prop.Rules, len(names), "%q", texts(prop))
	for _, r := range prop.Rules {
		assert.Empty(t, r.Generalisation, r.Text)
	}
	src := "profile svc {\n}\n"
	out, _ := learnInto(t, src, "svc", events, propose.ProposeOptions{})
	profiletest.Compile(t, out)
	f, err := parser.Parse("learned", []byte(out))
	require.NoError(t, err)
	pol, err := policy.NewPolicy(f, "svc", nil)
	require.NoError(t, err)
	for _, n := range names {
		assert.True(t, pol.Covers(policy.Access{Class: "file", Path: n, Perms: "r"}), "%s must be allowed", n)
	}
	for _, n := range []string{"/srv/x/a", "/srv/x/b", "/srv/x/zz", "/srv/x/", `/srv/x/a\`, "/srv/x/ab", "/srv/x/@{HOME}x", "/srv/x/a", "/home/bob", "/srv/x/q"} {
		assert.False(t, pol.Covers(policy.Access{Class: "file", Path: n, Perms: "r"}), "%s must not be allowed", n)
	}
}

// What the profile already allows is counted, not proposed; only missing
// permissions are proposed.
func TestProposeCovered(t *testing.T) {
	src := "profile svc {\n  /etc/hostname r,\n  /var/log/svc.log r,\n}\n"
	f, err := parser.Parse("svc", []byte(src))
	require.NoError(t, err)
	pol, err := policy.NewPolicy(f, "svc", nil)
	require.NoError(t, err)
	events := []*audit.Event{
		fileEvent("/etc/hostname", "r", 1, true),
		fileEvent("/etc/hostname", "r", 2, true),
		fileEvent("/var/log/svc.log", "rw", 3, true),
		fileEvent("/etc/motd", "r", 4, false),
	}
	prop, err := propose.Propose(f, "svc", events, propose.ProposeOptions{
		Covers: func(profile string, a policy.Access) bool { return profile == "svc" && pol.Covers(a) },
	})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"owner /var/log/svc.log w,", "/etc/motd r,"}, texts(prop))
	assert.Equal(t, 2, prop.Counts.Covered)
	assert.Equal(t, 4, prop.Counts.ForProfile)
}

// Every class in the records becomes its rule.
func TestProposeClasses(t *testing.T) {
	ev := func(e audit.Event) *audit.Event {
		e.Mode, e.PID = audit.ModeAllowed, 5
		if e.Profile == "" {
			e.Profile = "svc"
		}
		return &e
	}
	events := []*audit.Event{
		ev(audit.Event{Operation: "capable", Capname: "net_bind_service"}),
		ev(audit.Event{Operation: "create", Family: "inet", SockType: "stream"}),
		ev(audit.Event{Operation: "signal", RequestedMask: "send", Signal: "term", Peer: "other"}),
		ev(audit.Event{Operation: "signal", RequestedMask: "send", Signal: "hup", Peer: "other"}),
		ev(audit.Event{Operation: "ptrace", RequestedMask: "read", Peer: "unconfined"}),
		ev(audit.Event{Operation: "exec", Name: "/usr/bin/helper", RequestedMask: "x", Target: "svc//null-/usr/bin/helper", FSUID: 0, OUID: 0}),
		ev(audit.Event{Operation: "file_mmap", Profile: "svc//null-/usr/bin/helper", Name: "/usr/lib/libz.so.1", RequestedMask: "mr", FSUID: 0, OUID: 0}),
		ev(audit.Event{Operation: "link", Name: "/srv/l", Target: "/srv/t", RequestedMask: "l", FSUID: 0, OUID: 0}),
		ev(audit.Event{Operation: "mkdir", Name: "/srv/d/", RequestedMask: "c", FSUID: 0, OUID: 0}),
		ev(audit.Event{Operation: "change_profile", Target: "other", Name: "other"}),
		ev(audit.Event{Operation: "dbus_method_call", Bus: "system", Path: "/org/x", Interface: "org.x", Member: "Get", RequestedMask: "send", PeerLabel: "unconfined"}),
		ev(audit.Event{Operation: "connect", Class: "net", Family: "unix", SockType: "stream", RequestedMask: "connect send", PeerAddr: "@sock"}),
		ev(audit.Event{Operation: "mount", Class: "mount", Name: "/mnt/", SrcName: "/dev/sda1", Fstype: "ext4", Flags: "ro, nosuid"}),
		ev(audit.Event{Operation: "profile_load", Mode: audit.ModeStatus}),
	}
	events[len(events)-1].Mode = audit.ModeStatus
	prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{
		"capability net_bind_service,",
		"network inet stream,",
		"signal send set=(hup, term) peer=other,",
		"ptrace read peer=unconfined,",
		"/usr/bin/helper rmix,",
		"owner /usr/lib/libz.so.1 rm,",
		"owner link /srv/l -> /srv/t,",
		"owner /srv/d/ w,",
		"change_profile -> other,",
		"dbus send bus=system path=/org/x interface=org.x member=Get peer=(label=unconfined),",
		"unix (connect, send) type=stream peer=(addr=@sock),",
		"mount fstype=ext4 options=(nosuid, ro) /dev/sda1 -> /mnt/,",
	}, literalTexts(prop))
	assert.Equal(t, 1, prop.Counts.Ignored)
	for i, r := range prop.Rules {
		assert.Equal(t, fmt.Sprintf("r%d", i+1), r.ID)
	}
	out, _ := learnInto(t, "profile svc {\n}\n", "svc", events, propose.ProposeOptions{})
	profiletest.Compile(t, out)
}

// literalTexts lists the rules with generalisations replaced by their
// literal alternatives.
func literalTexts(p *propose.Proposal) []string {
	var out []string
	for _, r := range p.Rules {
		if len(r.Literal) > 0 {
			out = append(out, r.Literal...)
		} else {
			out = append(out, r.Text)
		}
	}
	return out
}

func TestProposeExecModes(t *testing.T) {
	exec := &audit.Event{Mode: audit.ModeAllowed, Operation: "exec", Profile: "svc", Name: "/usr/bin/tool", RequestedMask: "x", FSUID: 0, OUID: 0}
	cases := []struct {
		name string
		opts propose.ProposeOptions
		want string
	}{
		{"inherit by default", propose.ProposeOptions{}, "/usr/bin/tool rmix,"},
		{"own profile", propose.ProposeOptions{ProfileFor: func(string) (bool, string) { return true, "" }}, "/usr/bin/tool rmpx,"},
		{"own profile, setuid", propose.ProposeOptions{ProfileFor: func(string) (bool, string) { return true, "" }, Setuid: func(string) bool { return true }}, "/usr/bin/tool rmPx,"},
		{"child", propose.ProposeOptions{ChildExec: true}, "/usr/bin/tool rmcx,|profile /usr/bin/tool flags=(complain) { }"},
		{"child, setuid", propose.ProposeOptions{ChildExec: true, Setuid: func(string) bool { return true }}, "/usr/bin/tool rmCx,|profile /usr/bin/tool flags=(complain) { }"},
	}
	src := "profile svc flags=(complain) {\n}\n"
	f, err := parser.Parse("svc", []byte(src))
	require.NoError(t, err)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prop, err := propose.Propose(f, "svc", []*audit.Event{exec}, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, strings.Split(tc.want, "|"), texts(prop))
			out, _ := learnInto(t, src, "svc", []*audit.Event{exec}, tc.opts)
			profiletest.Compile(t, out)
		})
	}
	// A child that exists already is not proposed again; its records go
	// into it.
	src = "profile svc flags=(complain) {\n  profile /usr/bin/tool flags=(complain) {\n  }\n}\n"
	f, err = parser.Parse("svc", []byte(src))
	require.NoError(t, err)
	inChild := &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc///usr/bin/tool", Name: "/etc/tool.conf", RequestedMask: "r", FSUID: 0, OUID: 1}
	prop, err := propose.Propose(f, "svc", []*audit.Event{exec, inChild}, propose.ProposeOptions{ChildExec: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/bin/tool rmcx,", "/etc/tool.conf r,"}, texts(prop))
	assert.Equal(t, "svc///usr/bin/tool", prop.Rules[1].Profile)
	out, _ := learnInto(t, src, "svc", []*audit.Event{exec, inChild}, propose.ProposeOptions{ChildExec: true})
	assert.Contains(t, out, "  profile /usr/bin/tool flags=(complain) {\n    # learned by aa-flow (test)\n    /etc/tool.conf r,\n  }")
	profiletest.Compile(t, out)
}

// Many files of one directory become one pattern, unless it would reach
// something more dangerous than the files it replaces.
func TestProposeSiblingsAndSeverity(t *testing.T) {
	sev, err := lint.LoadSeverity("/etc/apparmor/severity.db")
	require.NoError(t, err)
	var spool, ssh []*audit.Event
	for i := 0; i < 10; i++ {
		spool = append(spool, fileEvent(fmt.Sprintf("/var/spool/svc/job%03d", i), "rw", int64(i+1), false))
	}
	for i, n := range []string{"moduli", "ssh_config", "sshd_config", "a", "b", "c", "d", "e", "f"} {
		ssh = append(ssh, fileEvent("/etc/ssh/"+n, "r", int64(i+1), false))
	}
	opts := propose.ProposeOptions{Severity: sev, SiblingThreshold: 5}

	prop, err := propose.Propose(nil, "svc", spool, opts)
	require.NoError(t, err)
	require.Len(t, prop.Rules, 1)
	assert.Equal(t, "/var/spool/svc/job[0-9]* rw,", prop.Rules[0].Text, "numbered files: a counter, not dir/*")
	assert.Equal(t, "counter", prop.Rules[0].Generalisation)
	assert.Len(t, prop.Rules[0].Replaces, 10)

	prop, err = propose.Propose(nil, "svc", ssh, opts)
	require.NoError(t, err)
	assert.Len(t, prop.Rules, 9, "/etc/ssh/* would grant the host keys: literals stay")
	for _, r := range prop.Rules {
		assert.Empty(t, r.Generalisation)
		assert.Equal(t, sev.Rule(&profiles.FileRule{Path: strings.Fields(r.Text)[0], Perms: "r"}), r.Severity)
	}
}

// Rules are ranked by severity, highest first, and each carries it.
func TestProposeRanking(t *testing.T) {
	sev, err := lint.LoadSeverity("/etc/apparmor/severity.db")
	require.NoError(t, err)
	events := []*audit.Event{
		fileEvent("/etc/hostname", "r", 1, false),
		{Mode: audit.ModeAllowed, Operation: "capable", Profile: "svc", Capname: "sys_admin"},
		fileEvent("/etc/shadow", "r", 2, false),
	}
	prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{Severity: sev})
	require.NoError(t, err)
	require.Len(t, prop.Rules, 3)
	assert.Equal(t, "capability sys_admin,", prop.Rules[0].Text)
	assert.Equal(t, 10, prop.Rules[0].Severity)
	assert.Equal(t, "/etc/shadow r,", prop.Rules[1].Text)
	assert.Equal(t, "/etc/hostname r,", prop.Rules[2].Text)
	assert.GreaterOrEqual(t, prop.Rules[1].Severity, prop.Rules[2].Severity)
}

// An abstraction is suggested when it covers several proposed rules and
// grants nothing more dangerous; accepting it leaves out what it covers.
func TestProposeAbstraction(t *testing.T) {
	ab := propose.AbstractionCandidate{Name: "abstractions/demo", Severity: 2, Covers: func(a policy.Access) bool {
		return strings.HasPrefix(a.Path, "/usr/share/demo/")
	}}
	events := []*audit.Event{
		fileEvent("/usr/share/demo/a", "r", 1, false),
		fileEvent("/usr/share/demo/b", "r", 2, false),
		fileEvent("/etc/hostname", "r", 3, false),
	}
	sevAll := raterFunc(func(profiles.Node) int { return 2 })
	prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{Abstractions: []propose.AbstractionCandidate{ab}, Severity: sevAll})
	require.NoError(t, err)
	require.Len(t, prop.Rules, 4)
	var inc *propose.Rule
	for _, r := range prop.Rules {
		if r.Kind == profiles.KindInclude {
			inc = r
		}
	}
	require.NotNil(t, inc)
	assert.Equal(t, "include <abstractions/demo>", inc.Text)
	require.Len(t, inc.Covers, 2)
	d, err := prop.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	var got []string
	for _, c := range prop.Apply(d) {
		got = append(got, c.Text)
	}
	assert.ElementsMatch(t, []string{"include <abstractions/demo>", "/etc/hostname r,"}, got)

	// A more dangerous abstraction is not suggested.
	ab.Severity = 9
	prop, err = propose.Propose(nil, "svc", events, propose.ProposeOptions{Abstractions: []propose.AbstractionCandidate{ab}, Severity: sevAll})
	require.NoError(t, err)
	assert.Len(t, prop.Rules, 3)

	// abstractions/base is suggested for any program.
	base := propose.AbstractionCandidate{Name: "abstractions/base", Severity: 9, Always: true, Covers: func(policy.Access) bool { return false }}
	prop, err = propose.Propose(nil, "svc", events, propose.ProposeOptions{Abstractions: []propose.AbstractionCandidate{base}, Severity: sevAll})
	require.NoError(t, err)
	assert.Contains(t, texts(prop), "include <abstractions/base>")
}

type raterFunc func(profiles.Node) int

func (f raterFunc) Rule(n profiles.Node) int { return f(n) }

// A forged record cannot smuggle rule text through its access words.
func TestProposeRefusesForgedWords(t *testing.T) {
	events := []*audit.Event{
		{Mode: audit.ModeAllowed, Operation: "signal", Profile: "svc", RequestedMask: "send) peer=(label=**", Signal: "term"},
		{Mode: audit.ModeAllowed, Operation: "signal", Profile: "svc", RequestedMask: "send", Signal: "term, /** rwx"},
		{Mode: audit.ModeAllowed, Operation: "ptrace", Profile: "svc", RequestedMask: "read,\n/** rwx"},
		{Mode: audit.ModeAllowed, Operation: "signal", Profile: "svc", RequestedMask: "send", Signal: "hup", Peer: "x, /** rwx"},
	}
	prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{})
	require.NoError(t, err)
	assert.Equal(t, 3, prop.Counts.Unwritable)
	assert.Len(t, prop.Warnings, 3)
	require.Len(t, prop.Rules, 1)
	assert.Equal(t, `signal send set=(hup) peer="x\, /\*\* rwx",`, prop.Rules[0].Text)
	out, _ := learnInto(t, "profile svc {\n}\n", "svc", events, propose.ProposeOptions{})
	profiletest.Compile(t, out)
}

func TestProposeSeq(t *testing.T) {
	events := []*audit.Event{fileEvent("/etc/hostname", "r", 1, true), fileEvent("/etc/hostname", "r", 2, true)}
	prop, err := propose.ProposeSeq(nil, "svc", slices.Values(events), propose.ProposeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"owner /etc/hostname r,"}, texts(prop))
	assert.Equal(t, 2, prop.Rules[0].Evidence.Count)
}

// Names with control bytes or a trailing backslash are written by the one
// renderer so that apparmor_parser takes them and each rule allows exactly
// its own name; none sinks the others.
func TestProposeAwkwardNames(t *testing.T) {
	names := []string{`/srv/x/a\`, "/srv/x/tab\there", "/srv/x/nl\nx", "/srv/x/\x01ctl", `/srv/x/b\\`, "/srv/x/ok"}
	var events []*audit.Event
	for i, n := range names {
		events = append(events, fileEvent(n, "r", int64(i+10), false))
	}
	out, prop := learnInto(t, "profile svc {\n}\n", "svc", events, propose.ProposeOptions{})
	require.Len(t, prop.Rules, len(names), "%q %q", texts(prop), prop.Warnings)
	profiletest.Compile(t, out)
	f, err := parser.Parse("learned", []byte(out))
	require.NoError(t, err)
	pol, err := policy.NewPolicy(f, "svc", nil)
	require.NoError(t, err)
	for _, n := range names {
		assert.True(t, pol.Covers(policy.Access{Class: policy.ClassFile, Path: n, Perms: "r"}), "%q must be allowed:\n%s", n, out)
	}
	for _, n := range []string{"/srv/x/a", "/srv/x/tab", "/srv/x/nl", `/srv/x/b\`, "/srv/x/okk"} {
		assert.False(t, pol.Covers(policy.Access{Class: policy.ClassFile, Path: n, Perms: "r"}), "%q must not be allowed", n)
	}
}

// AppArmor 4.x's userns record (Debian 13's kernel, testdata/corpus/kernel)
// becomes "userns create,", the rule apparmor.d(5) has, never the kernel's
// operation name.
func TestProposeUsernsCreate(t *testing.T) {
	line := `type=AVC msg=audit(1796589291.212:380): apparmor="ALLOWED" operation="userns_create" class="namespace" profile="aatest" pid=671 comm="aatest" requested="userns_create" denied="userns_create"`
	prop, err := propose.Propose(nil, "aatest", decodeAll([]byte(line), "audit.log"), propose.ProposeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"userns create,"}, texts(prop))
	_, err = parser.Parse("t", []byte("profile t {\n  "+prop.Rules[0].Text+"\n}\n"))
	require.NoError(t, err)
}

// px only to a profile that exists: a program the kernel ran under a
// profile of its own that the profile directory lacks gets ix (or cx, with
// a child profile) and a warning naming the target.
func TestProposeExecToMissingProfile(t *testing.T) {
	line := `type=AVC msg=audit(1700000000.000:9): apparmor="ALLOWED" operation="exec" profile="svc" name="/usr/bin/tool" pid=9 comm="svc" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="/usr/bin/tool"`
	for _, tc := range []struct {
		name  string
		opts  propose.ProposeOptions
		rules []string
	}{
		{"ix", propose.ProposeOptions{ProfileFor: func(string) (bool, string) { return false, "" }}, []string{"/usr/bin/tool rmix,"}},
		{"cx", propose.ProposeOptions{ChildExec: true}, []string{"/usr/bin/tool rmcx,", "profile /usr/bin/tool { }"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prop, err := propose.Propose(nil, "svc", decodeAll([]byte(line), "audit.log"), tc.opts)
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.rules, texts(prop))
			require.Len(t, prop.Warnings, 1)
			assert.Contains(t, prop.Warnings[0], `ran under profile "/usr/bin/tool", which the profile directory does not define`)
		})
	}
	prop, err := propose.Propose(nil, "svc", decodeAll([]byte(line), "audit.log"), propose.ProposeOptions{ProfileFor: func(string) (bool, string) { return true, "" }})
	require.NoError(t, err)
	assert.Equal(t, []string{"/usr/bin/tool rmpx,"}, texts(prop))
	assert.Empty(t, prop.Warnings)
}

// learn never proposes a rule the pinned abi cannot express: under
// abi/3.0 the userns rule is set aside with a message, and the rest of the
// proposal stands.
func TestProposeBeyondABI(t *testing.T) {
	lines := `type=AVC msg=audit(1796589291.212:380): apparmor="ALLOWED" operation="userns_create" class="namespace" profile="svc" pid=671 comm="svc" requested="userns_create" denied="userns_create"
type=AVC msg=audit(1796589291.213:381): apparmor="ALLOWED" operation="open" profile="svc" name="/etc/hostname" pid=671 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	abi30, err := kernel.ReadFeaturesFile("/etc/apparmor.d/abi/3.0")
	require.NoError(t, err)
	prop, err := propose.Propose(nil, "svc", decodeAll([]byte(lines), "audit.log"), propose.ProposeOptions{ABI: "abi/3.0", ABIFeatures: abi30})
	require.NoError(t, err)
	assert.Equal(t, []string{"owner /etc/hostname r,"}, texts(prop))
	require.Len(t, prop.Warnings, 1)
	assert.Contains(t, prop.Warnings[0], `abi/3.0 has no userns rules (namespaces/mask), so "userns create," (1 record`)
	assert.Equal(t, 1, prop.Counts.Unwritable)

	prop, err = propose.Propose(nil, "svc", decodeAll([]byte(lines), "audit.log"), propose.ProposeOptions{})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"userns create,", "owner /etc/hostname r,"}, texts(prop))
}

// A change_onexec the kernel refused because the target profile is not
// loaded gets no rule (none could allow it), and one warning says what to
// do; once the profile is loaded the kernel judges the rule and logs again.
func TestProposeChangeToMissingLabel(t *testing.T) {
	line := `2026-05-26T19:47:43.396634-04:00 host kernel: audit: type=1400 audit(1779839263.395:472): apparmor="DENIED" operation="change_onexec" class="file" info="label not found" error=-2 profile="/usr/lib/snapd/snap-confine" name="snap.firefox.firefox" pid=6209 comm="snap-confine"`
	evs := decodeAll([]byte(line+"\n"+strings.Replace(line, ":472)", ":473)", 1)), "kern.log")
	require.Len(t, evs, 2)
	assert.Empty(t, propose.Accesses(evs[0], "/usr/lib/snapd/snap-confine"))
	prop, err := propose.Propose(nil, "/usr/lib/snapd/snap-confine", evs, propose.ProposeOptions{})
	require.NoError(t, err)
	assert.Empty(t, texts(prop))
	assert.Equal(t, []string{`kern.log:1: change_onexec to "snap.firefox.firefox" failed: no profile of that name is loaded (info="label not found"); no rule can allow it: load that profile, and learn again`}, prop.Warnings)

	// Refused by policy (no error=-2): a rule is proposed.
	denied := strings.Replace(line, `info="label not found" error=-2 `, "", 1)
	prop, err = propose.Propose(nil, "/usr/lib/snapd/snap-confine", decodeAll([]byte(denied), "kern.log"), propose.ProposeOptions{})
	require.NoError(t, err)
	assert.Equal(t, []string{"change_profile -> snap.firefox.firefox,"}, texts(prop))
}

// 2.6-era kernels wrote file masks as OWNER::OTHER: "r::" is a read of a
// file the task owned, "::r" of one it did not (fsuid without ouid).
func TestProposeOldOwnerMask(t *testing.T) {
	const rec = `Oct 29 08:00:01 host kernel: [82789.550826] type=1502 audit(1225263601.980:37699): operation="inode_permission" requested_mask="MASK" denied_mask="MASK" fsuid=0 name="/bin/dash" pid=1144 profile="/bin/dash"`
	for _, tc := range []struct{ mask, rule string }{
		{"r::", "owner /bin/dash r,"},
		{"::r", "/bin/dash r,"},
		{"rw::r", "/bin/dash rw,"}, // one rule a path: owner only when every permission was the owner's
	} {
		prop, err := propose.Propose(nil, "/bin/dash", decodeAll([]byte(strings.ReplaceAll(rec, "MASK", tc.mask)), "kern.log"), propose.ProposeOptions{})
		require.NoError(t, err)
		assert.Equal(t, []string{tc.rule}, texts(prop), tc.mask)
	}
}

// Real-time signals are logged as rtmin+N (Debian 13's and 7.3's kernels,
// testdata/corpus/kernel) and written so in signal rules; anything else
// after "rtmin+" is not the kernel's and is refused.
func TestProposeRealtimeSignals(t *testing.T) {
	rec := func(sig string) string {
		return `type=AVC msg=audit(1796609649.392:474): apparmor="ALLOWED" operation="signal" class="signal" profile="aatest" pid=580 comm="aatest" requested_mask="send" denied_mask="send" signal=` + sig + ` peer="aatest"`
	}
	for _, tc := range []struct {
		signal string
		rule   string // "" when refused
	}{
		{"rtmin+1", "signal send set=(rtmin+1) peer=aatest,"},
		{"rtmin+0", "signal send set=(rtmin+0) peer=aatest,"},
		{"rtmin+32", "signal send set=(rtmin+32) peer=aatest,"},
		{"rtmin+33", ""},
		{"rtmin+01", ""},
		{"rtmin+", ""},
		{"rtmin+1x", ""},
		{"rtmax-1", ""},
	} {
		t.Run(tc.signal, func(t *testing.T) {
			prop, err := propose.Propose(nil, "aatest", decodeAll([]byte(rec(tc.signal)), "audit.log"), propose.ProposeOptions{})
			require.NoError(t, err)
			if tc.rule == "" {
				assert.Empty(t, texts(prop))
				assert.Equal(t, 1, prop.Counts.Unwritable)
				return
			}
			assert.Equal(t, []string{tc.rule}, texts(prop))
			out, _ := learnInto(t, "profile aatest {\n}\n", "aatest", decodeAll([]byte(rec(tc.signal)), "audit.log"), propose.ProposeOptions{})
			profiletest.Compile(t, out)
		})
	}
}
