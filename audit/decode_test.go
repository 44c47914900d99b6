package audit

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// decFeedAll runs lines through a new Decoder, reusing one buffer for every
// line as sources do, and returns the events and the stats.
func decFeedAll(t *testing.T, d *Decoder, source string, lines []string) []*Event {
	t.Helper()
	var out []*Event
	buf := make([]byte, 0, 4096)
	for i, l := range lines {
		buf = append(buf[:0], l...)
		out = append(out, d.Feed(buf, source, i+1)...)
		for j := range buf {
			buf[j] = 'X' // the Decoder must not keep the line
		}
	}
	return append(out, d.Flush()...)
}

func decReadLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	require.NoError(t, sc.Err())
	return lines
}

// TestKernelCorpus: every AppArmor line captured from real 6.1, 6.12 and 7.3 kernels
// parses, nothing is malformed, and audit=1 companions are attached.
func TestKernelCorpus(t *testing.T) {
	dir := testutil.Corpus(t, "kernel")
	files, err := filepath.Glob(filepath.Join(dir, "*.log"))
	require.NoError(t, err)
	require.Len(t, files, 7)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			lines := decReadLines(t, testutil.Capture(t, filepath.Base(f)))
			want := 0
			for i, l := range lines {
				if !strings.Contains(l, `apparmor="`) {
					if strings.Contains(l, "apparmor=") {
						// The kernel command line (apparmor=1): not a record.
						rec, err := Parse([]byte(l))
						require.NoError(t, err, "line %d", i+1)
						require.Nil(t, rec, "line %d", i+1)
					}
					continue
				}
				want++
				rec, err := Parse([]byte(l))
				require.NoError(t, err, "line %d", i+1)
				require.NotNil(t, rec, "line %d not recognised: %s", i+1, l)
				require.NotNil(t, rec.Event, "line %d", i+1)
				assert.NotEmpty(t, rec.Event.Mode, "line %d", i+1)
				assert.NotZero(t, rec.Event.Serial, "line %d", i+1)
			}
			d := NewDecoder()
			events := decFeedAll(t, d, f, lines)
			st := d.Stats()
			assert.Empty(t, st.Malformed)
			assert.Zero(t, st.MalformedTotal)
			assert.Equal(t, want, st.Records)
			assert.Equal(t, len(events)+st.Duplicates, st.Records)
			assert.Equal(t, len(lines), st.Lines)
			assert.Equal(t, st.Lines, st.Records+st.Companions+st.Skipped)
			for _, e := range events {
				assert.Equal(t, f, e.Source)
				assert.Positive(t, e.Line)
				assert.True(t, strings.Contains(lines[e.Line-1], e.ID()), "event line number points at its record")
			}
		})
	}
}

func TestKernelCorpusValues(t *testing.T) {
	path := testutil.Capture(t, "debian-6.1-dmesg-audit1-with-syscall.log")
	lines := decReadLines(t, path)
	d := NewDecoder()
	events := decFeedAll(t, d, "audit1", lines)
	byID := map[string][]*Event{}
	for _, e := range events {
		byID[e.ID()] = append(byID[e.ID()], e)
	}

	// An AVC followed by its SYSCALL and PROCTITLE (hex, NUL-separated).
	load := byID["1795343902.456:6"]
	require.Len(t, load, 1)
	assert.Equal(t, ModeStatus, load[0].Mode)
	assert.Equal(t, "profile_load", load[0].Operation)
	assert.Equal(t, "aatest", load[0].Name)
	assert.Equal(t, "/usr/sbin/apparmor_parser", load[0].Exe)
	assert.Equal(t, int64(1), load[0].Syscall)
	assert.Equal(t, "apparmor_parser -r -W -C /etc/apparmor.d/usr.bin.aatest", load[0].Proctitle)

	open := byID["1795343902.524:7"]
	require.Len(t, open, 1)
	assert.Equal(t, ModeAllowed, open[0].Mode)
	assert.Equal(t, "/etc/hostname", open[0].Name)
	assert.Equal(t, "aatest", open[0].Profile)
	assert.Equal(t, "/usr/bin/aatest", open[0].Exe)
	assert.Equal(t, "/usr/bin/aatest", open[0].Proctitle)
	assert.Equal(t, int64(257), open[0].Syscall)
	assert.Equal(t, 20, open[0].Line)

	// Two AVCs of one syscall (mknod then open) share the companions; CWD
	// and PATH records of the same serial in between do not end the wait.
	both := byID["1795343902.528:8"]
	require.Len(t, both, 2)
	for _, e := range both {
		assert.Equal(t, "/tmp/x", e.Name)
		assert.Equal(t, "/usr/bin/aatest", e.Exe)
		assert.Equal(t, "/usr/bin/aatest", e.Proctitle)
	}
	assert.Equal(t, "mknod", both[0].Operation)
	assert.Equal(t, "open", both[1].Operation)

	withExe := 0
	for _, e := range events {
		if e.Exe != "" {
			withExe++
		}
	}
	assert.Greater(t, withExe, len(events)/2, "most AVCs of an audit=1 capture get their SYSCALL")

	st := d.Stats()
	var lost []string
	for _, l := range st.Lost {
		lost = append(lost, l.Kind)
	}
	assert.Contains(t, lost, "audit-lost", "the stress summary reports audit_lost=2040")
	for _, l := range st.Lost {
		if l.Kind == "audit-lost" {
			assert.Equal(t, 2040, l.Count)
			assert.Contains(t, l.Advice, "audit_backlog_limit=")
		}
	}
	assert.NotEmpty(t, st.ByProfile["aatest"])
}

const (
	avc1 = `type=AVC msg=audit(1700000000.100:10): apparmor="ALLOWED" operation="open" profile="svc" name="/etc/a" pid=5 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	avc2 = `type=AVC msg=audit(1700000000.100:10): apparmor="ALLOWED" operation="open" profile="svc" name="/etc/b" pid=5 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	sys1 = `type=SYSCALL msg=audit(1700000000.100:10): arch=c000003e syscall=257 success=yes exit=3 ppid=1 pid=5 comm="svc" exe="/usr/bin/svc" subj=svc (complain) key=(null)` + "\x1dARCH=x86_64 SYSCALL=openat"
	cwd1 = `type=CWD msg=audit(1700000000.100:10): cwd="/"`
	pt1  = `type=PROCTITLE msg=audit(1700000000.100:10): proctitle=2F7573722F62696E2F737663002D2D666F6F`
	avc3 = `type=AVC msg=audit(1700000000.200:11): apparmor="DENIED" operation="exec" profile="svc" name="/bin/sh" pid=5 comm="svc" requested_mask="x" denied_mask="x" fsuid=0 ouid=0`
	avc4 = `type=AVC msg=audit(1700000000.300:14): apparmor="DENIED" operation="open" profile="svc" name="/etc/c" pid=5 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
)

func TestDecoderCompanions(t *testing.T) {
	d := NewDecoder()
	var got []*Event
	got = append(got, d.Feed([]byte(avc1), "a", 1)...)
	got = append(got, d.Feed([]byte(avc2), "a", 2)...)
	got = append(got, d.Feed([]byte(sys1), "a", 3)...)
	got = append(got, d.Feed([]byte(cwd1), "a", 4)...)
	got = append(got, d.Feed([]byte(pt1), "a", 5)...)
	assert.Empty(t, got, "events wait for companions until another serial")
	got = d.Feed([]byte(avc3), "a", 6)
	require.Len(t, got, 2)
	for _, e := range got {
		assert.Equal(t, "/usr/bin/svc", e.Exe)
		assert.Equal(t, "/usr/bin/svc --foo", e.Proctitle)
		assert.Equal(t, int64(257), e.Syscall)
	}
	assert.Equal(t, []string{"/etc/a", "/etc/b"}, []string{got[0].Name, got[1].Name})
	assert.Equal(t, []int{1, 2}, []int{got[0].Line, got[1].Line})
	got = d.Flush()
	require.Len(t, got, 1)
	assert.Equal(t, "/bin/sh", got[0].Name)
	assert.Empty(t, got[0].Exe)
	assert.Equal(t, int64(Unset), got[0].Syscall)
	assert.Empty(t, d.Flush())

	st := d.Stats()
	assert.Equal(t, 6, st.Lines)
	assert.Equal(t, 3, st.Records)
	assert.Equal(t, 2, st.Companions)
	assert.Equal(t, 1, st.Skipped)
	assert.Equal(t, map[string]map[Mode]int{"svc": {ModeAllowed: 2, ModeDenied: 1}}, st.ByProfile)
}

func TestDecoderDedupe(t *testing.T) {
	d := NewDecoder()
	kern := `[ 5.1] audit: type=1400 audit(1700000000.100:10): apparmor="ALLOWED" operation="open" profile="svc" name="/etc/a" pid=5 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	other := strings.Replace(avc1, `/etc/a`, `/etc/z`, 1) // same id, other content
	var got []*Event
	got = append(got, d.Feed([]byte(avc1), "audit.log", 1)...)
	got = append(got, d.Flush()...)
	got = append(got, d.Feed([]byte(kern), "kmsg", 1)...)
	got = append(got, d.Flush()...)
	got = append(got, d.Feed([]byte(other), "audit.log", 2)...)
	got = append(got, d.Flush()...)
	require.Len(t, got, 2)
	assert.Equal(t, "/etc/a", got[0].Name)
	assert.Equal(t, "/etc/z", got[1].Name)
	st := d.Stats()
	assert.Equal(t, 1, st.Duplicates)
	assert.Equal(t, 3, st.Records)
	assert.Equal(t, 2, st.ByProfile["svc"][ModeAllowed])
}

func TestDecoderSkippedAndMalformed(t *testing.T) {
	d := NewDecoder()
	lines := []string{
		`Nov 22 10:00:00 host sshd[1]: Accepted publickey for root`,
		`type=AVC msg=audit(1700000000.100:10): apparmor="DENIED" operation="open" profile="svc" name="/etc/a`,
		`type=AVC msg=audit(17000x0000.100:11): apparmor="DENIED" operation="open" profile="svc"`,
		`type=AVC msg=audit(1700000000.100:12): apparmor="DENIED" pid=abc`,
		`type=SYSCALL msg=audit(1700000000.100:13): arch=c000003e syscall=1 exe="/bin/x"`,
		`[    0.0] Command line: root=/dev/sda apparmor=1 security=apparmor`,
		// A 2.x prose record: the kernel's, but not read, so it is
		// reported (and the gate sees evidence it cannot use).
		`type=APPARMOR msg=audit(1157215966.604:46): REJECTING r access to /bin/df (sh(7902) profile /usr/sbin/httpd2-prefork active SYSINFO)`,
	}
	events := decFeedAll(t, d, "log", lines)
	assert.Empty(t, events)
	st := d.Stats()
	assert.Equal(t, 2, st.Skipped)
	assert.Equal(t, 1, st.Companions)
	assert.Zero(t, st.RefusedTotal)
	require.Len(t, st.Malformed, 4)
	assert.Equal(t, 4, st.MalformedTotal)
	assert.Equal(t, []int{2, 3, 4, 7}, []int{st.Malformed[0].Line, st.Malformed[1].Line, st.Malformed[2].Line, st.Malformed[3].Line})
	assert.Equal(t, "log", st.Malformed[0].Source)
	assert.Contains(t, st.Malformed[0].Err, "name")
	assert.Contains(t, st.Malformed[1].Err, "audit")
	assert.Contains(t, st.Malformed[2].Err, "pid")
	assert.Contains(t, st.Malformed[3].Err, "2.0-2.2 prose record (REJECTING")
	assert.Equal(t, time.Unix(1157215966, 604e6).UTC(), st.Malformed[3].Time)
}

func TestDecoderLost(t *testing.T) {
	lines := []string{
		`Nov 22 10:00:00 host kernel: [ 10.1] audit: rate limit exceeded`,
		`Nov 22 10:00:00 host kernel: [ 10.2] audit: audit_lost=5 audit_rate_limit=100 audit_backlog_limit=64`,
		`Nov 22 10:00:01 host kernel: [ 10.3] audit: audit_lost=9 audit_rate_limit=100 audit_backlog_limit=64`,
		`Nov 22 10:00:01 host kernel: [ 10.3] audit: audit_lost=9 audit_rate_limit=100 audit_backlog_limit=64`,
		`Nov 22 10:00:02 host kernel: [ 10.4] kauditd_printk_skb: 36 callbacks suppressed`,
		`Nov 22 10:00:02 host kernel: [ 10.4] net_ratelimit: 7 callbacks suppressed`,
		`Nov 22 10:00:03 host kernel: [ 10.5] audit: backlog limit exceeded`,
		`Nov 22 10:00:04 host kernel: [ 10.6] audit: kauditd hold queue overflow`,
		`Nov 22 10:00:05 host kernel: [ 10.7] audit: kauditd retry queue overflow`,
		`Nov 22 10:00:06 host kernel: [ 10.8] audit: out of memory in audit_log_start`,
	}
	d := NewDecoder()
	decFeedAll(t, d, "kern.log", lines)
	st := d.Stats()
	type kc struct {
		Kind        string
		Line, Count int
	}
	var got []kc
	for _, l := range st.Lost {
		got = append(got, kc{l.Kind, l.Line, l.Count})
		assert.NotEmpty(t, l.Advice)
		assert.Equal(t, "kern.log", l.Source)
	}
	assert.Equal(t, []kc{
		{"rate-limit", 1, 0},
		{"audit-lost", 2, 5},
		{"audit-lost", 3, 4},
		{"printk-ratelimit", 5, 36},
		{"backlog", 7, 0},
		{"hold-queue", 8, 0},
		{"retry-queue", 9, 0},
		{"out-of-memory", 10, 0},
	}, got)
	advice := map[string]string{}
	for _, l := range st.Lost {
		advice[l.Kind] = l.Advice
	}
	assert.Contains(t, advice["printk-ratelimit"], "/proc/sys/kernel/printk_ratelimit")
	assert.Contains(t, advice["backlog"], "audit_backlog_limit=")
	assert.Contains(t, advice["backlog"], "-b")
	for _, l := range st.Lost {
		assert.True(t, l.Time.IsZero(), "%s at line %d: no record dated the syslog stamps", l.Kind, l.Line)
	}
}

func TestDecoderLostTime(t *testing.T) {
	ref := time.Date(2026, 11, 22, 9, 0, 0, 0, time.Local)
	refStamp := decItoa(int(ref.Unix()))
	lines := []string{
		`2026-11-22T10:00:00.250+00:00 host kernel: audit: rate limit exceeded`,
		`type=AVC msg=audit(` + refStamp + `.000:7): apparmor="ALLOWED" operation="open" profile="svc" name="/x" pid=5 comm="svc"`,
		`Nov 22 10:00:01 host kernel: [ 10.3] audit: backlog limit exceeded`,
		`[ 10.4] audit: kauditd hold queue overflow`,
	}
	d := NewDecoder()
	decFeedAll(t, d, "kern.log", lines)
	st := d.Stats()
	require.Len(t, st.Lost, 3)
	assert.Equal(t, time.Date(2026, 11, 22, 10, 0, 0, 250e6, time.UTC), st.Lost[0].Time, "ISO-8601 syslog time")
	assert.Equal(t, time.Date(2026, 11, 22, 10, 0, 1, 0, time.Local).UTC(), st.Lost[1].Time, "traditional syslog time, year from the record before")
	assert.True(t, st.Lost[2].Time.IsZero(), "a dmesg line has no wall-clock time")
}

func TestLineTime(t *testing.T) {
	ref := time.Date(2027, 1, 1, 0, 30, 0, 0, time.Local)
	tests := []struct {
		name string
		line string
		ref  time.Time
		want time.Time
	}{
		{"audit stamp", `type=KERNEL msg=audit(1700000000.123:9): audit_lost=3`, time.Time{}, time.Unix(1700000000, 123e6).UTC()},
		{"iso", `2026-11-22T10:00:00.000001+01:00 h kernel: audit: backlog limit exceeded`, time.Time{}, time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)},
		{"syslog same year", `Jan  1 00:10:00 h kernel: audit: rate limit exceeded`, ref, time.Date(2027, 1, 1, 0, 10, 0, 0, time.Local).UTC()},
		{"syslog across new year", `Dec 31 23:59:00 h kernel: audit: rate limit exceeded`, ref, time.Date(2026, 12, 31, 23, 59, 0, 0, time.Local).UTC()},
		{"syslog without ref", `Dec 31 23:59:00 h kernel: audit: rate limit exceeded`, time.Time{}, time.Time{}},
		{"bad syslog", `Foo 31 23:59:00 h kernel: audit: rate limit exceeded`, ref, time.Time{}},
		{"dmesg", `[ 10.4] audit: rate limit exceeded`, ref, time.Time{}},
		{"bad stamp", `audit(12x): audit_lost=1`, time.Time{}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, lineTime([]byte(tt.line), tt.ref))
		})
	}
}

func TestDecoderSerialGap(t *testing.T) {
	rec := func(serial int, typ string) string {
		if typ == "AVC" {
			return `type=AVC msg=audit(1700000000.100:` + decItoa(serial) + `): apparmor="ALLOWED" operation="open" profile="svc" name="/x" pid=5 comm="svc"`
		}
		return `type=` + typ + ` msg=audit(1700000000.100:` + decItoa(serial) + `): pid=1 uid=0`
	}
	t.Run("explained by other records", func(t *testing.T) {
		var lines []string
		for s := 100; s < 2000; s++ {
			typ := "USER_LOGIN"
			if s%3 == 0 {
				typ = "AVC"
			}
			lines = append(lines, rec(s, typ))
		}
		// Out of order within a few serials, as with several CPUs.
		lines[10], lines[11] = lines[11], lines[10]
		d := NewDecoder()
		decFeedAll(t, d, "audit.log", lines)
		assert.Empty(t, d.Stats().Lost)
	})
	t.Run("unexplained", func(t *testing.T) {
		var lines []string
		for s := 100; s < 2000; s++ {
			if s >= 500 && s < 530 || s == 1999-3 {
				continue
			}
			lines = append(lines, rec(s, "AVC"))
		}
		d := NewDecoder()
		decFeedAll(t, d, "audit.log", lines)
		lost := d.Stats().Lost
		require.Len(t, lost, 1)
		assert.Equal(t, "serial-gap", lost[0].Kind)
		assert.Equal(t, 31, lost[0].Count)
		assert.Equal(t, 401, lost[0].Line, "the line where serials first skipped ahead")
		assert.Equal(t, "audit.log", lost[0].Source)
		assert.Contains(t, lost[0].Advice, "auditctl -r 0")
	})
	// Debian 12's auditd logged DAEMON_START with serial 6506 among the
	// kernel's 2..132: auditd's own number, no gap.
	t.Run("auditd's own records", func(t *testing.T) {
		lines := []string{rec(2, "AVC"), rec(3, "USER_LOGIN"), `type=DAEMON_START msg=audit(1700000000.100:6506): op=start ver=3.0.9 format=enriched kernel=6.1.0-57-amd64 auid=4294967295 pid=221 uid=0 ses=4294967295 res=success`,
			`node=web1 type=DAEMON_ROTATE msg=audit(1700000000.100:6507): op=rotate-logs auid=0 pid=1 res=success`, rec(4, "AVC"), rec(5, "AVC")}
		d := NewDecoder()
		decFeedAll(t, d, "audit.log", lines)
		assert.Empty(t, d.Stats().Lost)
	})
	// A gap among records dated before the window (Read's Since) is not
	// one in it; one among the window's records is.
	t.Run("only in the window", func(t *testing.T) {
		at := func(sec, serial int) string {
			return `type=AVC msg=audit(` + decItoa(sec) + `.100:` + decItoa(serial) + `): apparmor="ALLOWED" operation="open" profile="svc" name="/x" pid=5 comm="svc"`
		}
		lines := []string{at(1700000000, 10), at(1700000000, 50), at(1700000100, 51), at(1700000100, 52), at(1700000200, 60)}
		d := NewDecoder()
		d.lost.from = time.Unix(1700000100, 0)
		decFeedAll(t, d, "audit.log", lines)
		lost := d.Stats().Lost
		require.Len(t, lost, 1)
		assert.Equal(t, 7, lost[0].Count, "53..59, not 11..49")
	})
	t.Run("reboot restarts serials", func(t *testing.T) {
		var lines []string
		for s := 5000; s < 6000; s++ {
			lines = append(lines, rec(s, "AVC"))
		}
		for s := 1; s < 100; s++ {
			lines = append(lines, rec(s, "AVC"))
		}
		d := NewDecoder()
		decFeedAll(t, d, "audit.log", lines)
		assert.Empty(t, d.Stats().Lost)
	})
}

func decItoa(n int) string { return strconv.Itoa(n) }

func TestDecoderFeedMessage(t *testing.T) {
	d := NewDecoder()
	def := MessageDefaults{Time: time.Unix(1700000000, 0).UTC(), Serial: 42}
	var got []*Event
	got = append(got, d.FeedMessage([]byte(`AVC apparmor="DENIED" operation="open" profile="svc" name="/etc/shadow" pid=3 comm="svc" requested_mask="r" denied_mask="r"`), def, "journald", 1)...)
	got = append(got, d.FeedMessage([]byte(`SYSCALL arch=c000003e syscall=257 success=no exit=-13 exe="/usr/bin/svc"`), def, "journald", 2)...)
	got = append(got, d.FeedMessage([]byte(`AVC apparmor="DENIED" operation="open" profile="svc" name="/etc/x`), def, "journald", 3)...)
	got = append(got, d.FeedMessage([]byte(`SERVICE_START pid=1 uid=0 msg='unit=svc'`), def, "journald", 4)...)
	got = append(got, d.Flush()...)
	require.Len(t, got, 1)
	assert.Equal(t, uint64(42), got[0].Serial)
	assert.Equal(t, "/usr/bin/svc", got[0].Exe)
	assert.Equal(t, "journald", got[0].Source)
	st := d.Stats()
	assert.Equal(t, 4, st.Lines)
	assert.Equal(t, 1, st.Skipped)
	require.Len(t, st.Malformed, 1)
	assert.Equal(t, 3, st.Malformed[0].Line)
}

// The slices Feed returns do not share memory: a caller may append to one.
func TestDecoderReturnedSlicesIndependent(t *testing.T) {
	d := NewDecoder()
	line := func(serial int, name string) []byte {
		return []byte(`type=AVC msg=audit(1700000000.100:` + strconv.Itoa(serial) + `): apparmor="ALLOWED" operation="open" profile="svc" name="` + name + `"`)
	}
	d.Feed(line(1, "/a"), "f", 1)
	first := d.Feed(line(2, "/b"), "f", 2)
	require.Len(t, first, 1)
	first = append(first, &Event{Name: "mine"})
	second := d.Feed(line(3, "/c"), "f", 3)
	require.Len(t, second, 1)
	assert.Equal(t, "/b", second[0].Name)
	assert.Equal(t, "/a", first[0].Name)
	assert.Equal(t, "mine", first[1].Name)
}

func TestParseDoesNotRetainLine(t *testing.T) {
	line := []byte(avc1)
	rec, err := Parse(line)
	require.NoError(t, err)
	for i := range line {
		line[i] = 'X'
	}
	assert.Equal(t, "/etc/a", rec.Event.Name)
	assert.Equal(t, "svc", rec.Event.Profile)
	assert.Equal(t, ModeAllowed, rec.Event.Mode)
}

// A USER_AVC's sender, read in place by a Decoder, survives the line
// buffer being overwritten.
func TestDecoderSenderDoesNotRetainLine(t *testing.T) {
	d := NewDecoder()
	line := []byte(`type=USER_AVC msg=audit(1.000:5): pid=363 uid=102 auid=4294967295 ses=4294967295 subj=/usr/bin/dbus-daemon (enforce) msg='apparmor="DENIED" operation="dbus_bind" bus="system" name="x" mask="bind" pid=9 label="svc"'`)
	evs := d.Feed(line, "f", 1)
	for i := range line {
		line[i] = 'X'
	}
	evs = append(evs, d.Flush()...)
	require.Len(t, evs, 1)
	assert.Equal(t, "/usr/bin/dbus-daemon (enforce)", evs[0].SenderLabel)
	assert.Equal(t, int64(363), evs[0].SenderPID)
	assert.Equal(t, "/usr/bin/dbus-daemon (enforce)", evs[0].Clone().SenderLabel)
}

// Clone shares no memory with the original: every string and Extra are
// copies, the values equal.
func TestEventClone(t *testing.T) {
	d := NewDecoder()
	events := decFeedAll(t, d, "f", []string{avc1, sys1, pt1, `type=AVC msg=audit(1.000:99): apparmor="DENIED" operation="x" odd=1 profile="p"`})
	require.Len(t, events, 2)
	for _, e := range events {
		c := e.Clone()
		assert.Equal(t, e, c)
		assert.NotSame(t, e, c)
		if len(e.Name) > 0 {
			assert.NotSame(t, unsafe.StringData(e.Name), unsafe.StringData(c.Name))
		}
		if len(e.Extra) > 0 {
			assert.NotSame(t, &e.Extra[0], &c.Extra[0])
		}
	}
	assert.Equal(t, "/usr/bin/svc --foo", events[0].Clone().Proctitle)
}

// Two logs read one after the other: a record seen again 100,000 serials
// later (within the 128K-serial window) is still a duplicate.
func TestDecoderDedupeWindow(t *testing.T) {
	d := NewDecoder()
	rec := func(serial int) []byte {
		return []byte(`type=AVC msg=audit(1700000000.100:` + strconv.Itoa(serial) + `): apparmor="ALLOWED" operation="open" profile="svc" name="/x"`)
	}
	n := 0
	for s := 1; s <= 100000; s++ {
		n += len(d.Feed(rec(s), "audit.log", s))
	}
	for s := 1; s <= 10; s++ {
		n += len(d.Feed(rec(s), "kern.log", s))
	}
	n += len(d.Flush())
	st := d.Stats()
	assert.Equal(t, 100000, n)
	assert.Equal(t, 10, st.Duplicates)
}

// TestDecoderDedupeSameSerial: several records of one syscall share a
// serial; each is recognised when it arrives again, however many there are
// and wherever the serial falls in the table, and a further record of that
// serial is still new.
func TestDecoderDedupeSameSerial(t *testing.T) {
	for _, serial := range []int{7, dedupeSerials - 1, dedupeSerials + 7, 3*dedupeSerials + dedupeOverflowSerials + 5} {
		t.Run(strconv.Itoa(serial), func(t *testing.T) {
			d := NewDecoder()
			rec := func(name string) []byte {
				return []byte(`type=AVC msg=audit(1700000000.100:` + strconv.Itoa(serial) + `): apparmor="ALLOWED" operation="open" profile="svc" name="` + name + `"`)
			}
			names := []string{"/a", "/b", "/c", "/d"}
			n := 0
			for _, src := range []string{"audit.log", "kern.log"} {
				for i, name := range names {
					n += len(d.Feed(rec(name), src, i+1))
				}
				n += len(d.Flush())
			}
			n += len(d.Feed(rec("/e"), "kern.log", 9))
			n += len(d.Flush())
			st := d.Stats()
			assert.Equal(t, 5, n)
			assert.Equal(t, 4, st.Duplicates)
		})
	}
}

// TestReusingDecoderSameEvents: the Decoder Read uses (lines read in place,
// values interned, events handed back and reused after each call) returns
// the same events as Parse-backed decoding of fresh copies, over the real
// kernel captures, libapparmor's cases and the benchmark mix; copies (*e)
// taken during the call stay intact afterwards.
func TestReusingDecoderSameEvents(t *testing.T) {
	var lines []string
	files, err := filepath.Glob(filepath.Join(testutil.Corpus(t, "kernel"), "*.log"))
	require.NoError(t, err)
	more, err := filepath.Glob(filepath.Join(testutil.Corpus(t, "libapparmor-test_multi"), "*.in"))
	require.NoError(t, err)
	require.NotEmpty(t, more)
	for _, f := range append(files, more...) {
		lines = append(lines, decReadLines(t, f)...)
	}
	for _, l := range benchLines() {
		lines = append(lines, string(l))
	}
	// Twice: the repeats are dropped as duplicates, events handed back
	// for reuse, in both decoders alike.
	lines = append(lines, lines...)

	plain := NewDecoder()
	var want []Event
	for i, l := range lines {
		for _, e := range plain.Feed([]byte(l), "x", i+1) {
			want = append(want, *e)
		}
	}
	for _, e := range plain.Flush() {
		want = append(want, *e)
	}

	d := newReusingDecoder()
	var got []Event
	take := func(evs []*Event) {
		for _, e := range evs {
			got = append(got, *e)
		}
		d.release(evs)
	}
	buf := make([]byte, 0, 4096)
	for i, l := range lines {
		buf = append(buf[:0], l...)
		take(d.Feed(buf, "x", i+1))
		for j := range buf {
			buf[j] = 'X'
		}
	}
	take(d.Flush())
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i], got[i], "event %d (line %d)", i, want[i].Line)
	}
	assert.Equal(t, plain.Stats(), d.Stats())
	assert.Greater(t, len(want), 1000)
}
