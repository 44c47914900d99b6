package seccomp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
)

func TestTables(t *testing.T) {
	for _, tc := range []struct {
		arch uint32
		nr   int64
		name string
	}{
		{AuditArchX86_64, 0, "read"}, {AuditArchX86_64, 101, "ptrace"}, {AuditArchX86_64, 246, "kexec_load"},
		{AuditArchX86_64, 257, "openat"}, {AuditArchX86_64, 59, "execve"},
		{AuditArchAARCH64, 63, "read"}, {AuditArchAARCH64, 117, "ptrace"}, {AuditArchAARCH64, 56, "openat"},
		{AuditArchAARCH64, 221, "execve"}, {AuditArchAARCH64, 435, "clone3"},
	} {
		tb, ok := TableFor(tc.arch)
		require.True(t, ok)
		n, ok := tb.Name(tc.nr)
		assert.True(t, ok, "%x %d", tc.arch, tc.nr)
		assert.Equal(t, tc.name, n, "%x %d", tc.arch, tc.nr)
		nr, ok := tb.Number(tc.name)
		assert.True(t, ok)
		assert.Equal(t, tc.nr, nr)
	}
	_, ok := TableFor(0x40000003) // i386: no table
	assert.False(t, ok)
	_, err := parseTable([]byte("12 read\nfoo\n"), "t.txt")
	assert.ErrorContains(t, err, "t.txt line 2")
}

// The names the default profile allows exist on at least one of the two
// architectures, so a learned name can always be written back.
func TestDefaultNamesAreKnown(t *testing.T) {
	p, err := Parse(DockerDefault())
	require.NoError(t, err)
	x, _ := TableFor(AuditArchX86_64)
	a, _ := TableFor(AuditArchAARCH64)
	known := 0
	for _, n := range p.Names(ActAllow) {
		_, okx := x.Number(n)
		_, oka := a.Number(n)
		if okx || oka {
			known++
		}
	}
	assert.Greater(t, known, 300)
}

func rec(nr int64, code uint32, comm string) Record {
	return Record{Time: time.Date(2026, 12, 6, 21, 0, 0, 0, time.UTC), Arch: AuditArchX86_64, Syscall: nr, Code: code, Comm: comm, PID: 42, Source: "audit.log", Line: int(nr) + 1}
}

func TestLearnNarrow(t *testing.T) {
	def, err := Parse(DockerDefault())
	require.NoError(t, err)
	lp := LearningProfile(def)
	assert.Empty(t, lp.Names(ActAllow), "nothing is allowed outright while learning")
	assert.Contains(t, lp.Names(ActLog), "ptrace")
	assert.Equal(t, ActErrno, lp.DefaultAction)
	assert.Contains(t, def.Names(ActAllow), "read", "the starting profile is not changed")

	var o Observation
	for _, r := range []Record{rec(0, RetLog, "sh"), rec(0, RetLog, "sh"), rec(1, RetLog, "sh"), rec(257, RetLog, "cat"),
		rec(59, RetLog, "sh"), rec(231, RetLog, "sh"), rec(101, RetErrno|1, "sh"), rec(9999, RetLog, "sh"),
		{Arch: 0x40000003, Syscall: 3, Code: RetLog}} {
		o.Observe(r)
	}
	assert.Equal(t, 9, o.Records)
	assert.Equal(t, 2, o.Seen["read"].Count)
	assert.Len(t, o.Refused, 1)
	assert.Len(t, o.Unmapped, 2)

	p := Propose(lp, []string{"write"}, o)
	var names []string
	for _, a := range p.Add {
		names = append(names, a.Name)
	}
	assert.Equal(t, []string{"execve", "exit_group", "openat", "read", "restart_syscall", "rt_sigreturn"}, names)

	learned := []string{"execve", "exit_group", "openat", "read", "write"}
	en := Narrow(lp, learned)
	assert.Equal(t, learned, en.Names(ActAllow), "the learned calls, nothing else")
	assert.NotContains(t, en.Names(ActAllow), "ptrace", "not learned: refused with EPERM by the default action")
	assert.Empty(t, en.Names(ActLog))
	assert.Contains(t, en.Names(ActErrno), "clone3", "refusing rules stay")
	b, err := en.Marshal()
	require.NoError(t, err)
	back, err := Parse(b)
	require.NoError(t, err)
	assert.Equal(t, en.Names(ActAllow), back.Names(ActAllow))

	d := Diff([]string{"write"}, learned, map[string]Evidence{"read": *o.Seen["read"]})
	assert.Contains(t, d, "+ \"read\",  # 2×, first 2026-12-06T21:00:00Z comm=sh (audit.log:1)\n")
	assert.Contains(t, d, "  \"write\",\n")
	assert.Contains(t, d, "@@ -1,1 +1,5 @@")
	assert.Contains(t, Diff([]string{"a", "b"}, []string{"a"}, nil), "- \"b\",\n")
}

// The calls kept without a record are proposed, marked with the reason,
// only where the learning profile logs them, only when the allow-list
// lacks them and only alongside something learned or seen.
func TestProposeKeptWithoutRecords(t *testing.T) {
	def, err := Parse(DockerDefault())
	require.NoError(t, err)
	lp := LearningProfile(def)
	narrow, err := Parse([]byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write"],"action":"SCMP_ACT_LOG"}]}`))
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		learning *Profile
		learned  []string
		seen     []int64
		kept     []string
		add      []string
	}{
		{"first learn", lp, nil, []int64{0, 1}, []string{"restart_syscall", "rt_sigreturn"}, []string{"read", "restart_syscall", "rt_sigreturn", "write"}},
		{"one seen: learned from its record", lp, nil, []int64{0, 15}, []string{"restart_syscall"}, []string{"read", "restart_syscall", "rt_sigreturn"}},
		{"already in the allow-list", lp, []string{"read", "restart_syscall", "rt_sigreturn"}, []int64{0, 1}, nil, []string{"write"}},
		{"nothing seen, nothing learned", lp, nil, nil, nil, nil},
		{"nothing seen, an allow-list without them", lp, []string{"read"}, nil, []string{"restart_syscall", "rt_sigreturn"}, []string{"restart_syscall", "rt_sigreturn"}},
		{"the learning profile does not log them", narrow, nil, []int64{0}, nil, []string{"read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o Observation
			for _, nr := range tc.seen {
				o.Observe(rec(nr, RetLog, "server"))
			}
			p := Propose(tc.learning, tc.learned, o)
			var add []string
			for _, a := range p.Add {
				add = append(add, a.Name)
				if a.Kept != "" {
					assert.Zero(t, a.Count, a.Name)
					assert.Equal(t, KeptWithoutRecords[a.Name], a.Kept, a.Name)
				} else {
					assert.NotZero(t, a.Count, "%s: a record or a reason", a.Name)
				}
			}
			sort.Strings(add)
			assert.Equal(t, tc.add, add)
			assert.Equal(t, tc.kept, p.Kept())

			b, err := json.Marshal(p)
			require.NoError(t, err)
			for _, n := range tc.kept {
				assert.Contains(t, string(b), fmt.Sprintf(`{"name":%q,"count":0,`, n))
			}
			assert.Equal(t, len(tc.kept), strings.Count(string(b), `"kept":"`), string(b))
		})
	}

	d := Diff(nil, []string{"read", "rt_sigreturn"}, map[string]Evidence{"rt_sigreturn": {Kept: KeptWithoutRecords["rt_sigreturn"]}})
	assert.Contains(t, d, "+ \"rt_sigreturn\",  # no record, kept: the return from a signal handler: made only when a signal arrives")
	assert.Contains(t, d, "+ \"read\",\n", "no evidence given, none printed")
}

func TestInlineHash(t *testing.T) {
	def := DockerDefault()
	h1, err := InlineHash(def)
	require.NoError(t, err)
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, def))
	h2, ok, err := InspectHash([]string{"no-new-privileges", "seccomp=" + compact.String(), "apparmor=web"})
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, h1, h2, "the hash of the file is the hash of what docker inspect inlines")
	_, ok, err = InspectHash([]string{"seccomp=unconfined"})
	assert.NoError(t, err)
	assert.False(t, ok)
	_, _, err = InspectHash([]string{"seccomp={broken"})
	assert.ErrorIs(t, err, ErrFormat)
}

func TestGate(t *testing.T) {
	start := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	now := start.Add(2 * time.Hour)
	seen := func(names ...string) Observation {
		var o Observation
		tb, _ := TableFor(AuditArchX86_64)
		for _, n := range names {
			nr, _ := tb.Number(n)
			o.Observe(Record{Arch: AuditArchX86_64, Syscall: nr, Code: RetLog})
		}
		return o
	}
	learned := []string{"read", "write"}
	for _, tc := range []struct {
		name  string
		o     Observation
		lost  int64
		quiet time.Duration
		learn []string
		pass  bool
		why   string
	}{
		{"clean", seen("read", "write"), 0, time.Hour, learned, true, ""},
		{"new syscall", seen("read", "openat"), 0, time.Hour, learned, false, "not learned: openat"},
		{"silent logs", Observation{}, 0, time.Hour, learned, false, "no SECCOMP record"},
		{"lost", seen("read"), 3, time.Hour, learned, false, "3 audit records were lost"},
		{"short window", seen("read"), 0, 3 * time.Hour, learned, false, "shorter than --quiet-for"},
		{"nothing learned", seen("read"), 0, time.Hour, nil, false, "nothing learned yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Gate(tc.learn, tc.o, tc.lost, start, now, tc.quiet)
			assert.Equal(t, tc.pass, r.Pass, "%v", r.Reasons)
			if tc.why != "" {
				assert.Contains(t, r.Reasons[len(r.Reasons)-1]+" "+r.Reasons[0], tc.why)
			}
		})
	}
}

func TestFromEvent(t *testing.T) {
	e := &audit.Event{Type: 1326, Syscall: 101, PID: 7, Comm: "strace", Source: "kmsg",
		Extra: []audit.KV{{Key: "subj", Value: "=web (enforce)"}, {Key: "sig", Value: "0"}, {Key: "arch", Value: "c000003e"}, {Key: "code", Value: "0x7ffc0000"}}}
	r, ok := FromEvent(e)
	require.True(t, ok)
	assert.Equal(t, AuditArchX86_64, r.Arch)
	assert.True(t, r.Logged())
	n, err := r.Name()
	require.NoError(t, err)
	assert.Equal(t, "ptrace", n)
	assert.Equal(t, "web", SubjectProfile(r.Subj))
	assert.Equal(t, "docker-default", SubjectProfile("docker-default (enforce)"))
	assert.Equal(t, "unconfined", SubjectProfile("unconfined"))

	// As the Debian 13 guest logged docker run --init's sleep, a child of
	// docker-init executed without an exec rule.
	assert.True(t, OfProfile("ctr-chk//null-/usr/bin/busybox", "ctr-chk"))
	assert.True(t, OfProfile("ctr-chk (complain)", "ctr-chk"))
	assert.False(t, OfProfile("ctr-chk2 (complain)", "ctr-chk"), "another profile that shares the prefix")
	assert.False(t, OfProfile("runc", "ctr-chk"))

	_, ok = FromEvent(&audit.Event{Type: 1400})
	assert.False(t, ok)
	e.Extra[2].Value = "zz"
	_, ok = FromEvent(e)
	assert.False(t, ok)
}

// runc's init's records count for the container only once the same
// process (pid, in the same log) runs under the container's profile: a
// process elsewhere that names itself runc:[2:INIT] adds nothing.
func TestTakeTiesRuntimeInit(t *testing.T) {
	at := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	r := func(pid int64, source, comm, subj string, nr int64) Record {
		return Record{Time: at, Arch: AuditArchX86_64, Syscall: nr, Code: RetLog, Comm: comm, Subj: subj, PID: pid, Source: source}
	}
	const runc = "runc:[2:INIT]"
	for _, tc := range []struct {
		name    string
		recs    []Record
		keep    func(Record) bool
		seen    []string
		runtime []string
		untied  int
	}{
		{"runc's init, then its exec under the profile",
			[]Record{r(7, "audit.log", runc, "runc", 138), r(7, "audit.log", runc, "runc", 59), r(7, "audit.log", "sleep", "web (complain)", 230)},
			Container("web"), []string{"clock_nanosleep", "execve", "fstatfs"}, []string{"execve", "fstatfs"}, 0},
		{"a forged comm in another container, never under the profile",
			[]Record{r(9, "audit.log", runc, "docker-default (enforce)", 101), r(7, "audit.log", "sleep", "web (complain)", 230)},
			Container("web"), []string{"clock_nanosleep"}, nil, 1},
		{"the same pid in another log is another process",
			[]Record{r(7, "kern.log", runc, "runc", 101), r(7, "audit.log", "sleep", "web (complain)", 230)},
			Container("web"), []string{"clock_nanosleep"}, nil, 1},
		{"a pid never seen again",
			[]Record{r(7, "audit.log", runc, "runc", 101)},
			Container("web"), nil, nil, 1},
		{"--all-subjects takes every record",
			[]Record{r(9, "audit.log", runc, "docker-default (enforce)", 101)},
			nil, []string{"ptrace"}, []string{"ptrace"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o Observation
			for _, rec := range tc.recs {
				o.Take(rec, tc.keep)
			}
			o.Done()
			var seen, runtime []string
			for n, e := range o.Seen {
				seen = append(seen, n)
				if e.Runtime {
					runtime = append(runtime, n)
				}
			}
			sort.Strings(seen)
			sort.Strings(runtime)
			assert.Equal(t, tc.seen, seen)
			assert.Equal(t, tc.runtime, runtime)
			assert.Equal(t, tc.untied, o.Untied)
		})
	}
}
