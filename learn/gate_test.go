package learn

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/rollout"
)

func avc(t time.Time, serial int, profile, name string) string {
	return fmt.Sprintf("type=AVC msg=audit(%d.%03d:%d): apparmor=\"ALLOWED\" operation=\"open\" profile=\"%s\" name=\"%s\" pid=4242 comm=\"web\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
		t.Unix(), t.Nanosecond()/1e6, serial, profile, name)
}

// syslogLine is a record as rsyslog writes it (ISO time), so that loss
// lines beside it have a time too.
func syslogLine(t time.Time, msg string) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000-07:00") + " host kernel: " + msg + "\n"
}

const webProfile = "abi <abi/3.0>,\ninclude <tunables/global>\nprofile web /usr/bin/web flags=(complain) {\n  include <abstractions/base>\n  /usr/bin/web mr,\n  /srv/www/** r,\n  ^hat {\n    /srv/hat r,\n  }\n}\n"

func webCoverage(t testing.TB) *Coverage {
	p := filepath.Join(t.TempDir(), "web")
	require.NoError(t, os.WriteFile(p, []byte(webProfile), 0o644))
	f, err := parser.ParseFile(p)
	require.NoError(t, err)
	return NewCoverage(f, parser.ForProfileDir(parser.DefaultIncludeDir))
}

// The gate and the learner ask the same question of the same policy.
func TestCoverage(t *testing.T) {
	c := webCoverage(t)
	now := time.Now()
	tests := []struct {
		profile, name string
		want          bool
	}{
		{"web", "/srv/www/index.html", true},
		{"web", "/etc/ld.so.cache", true}, // abstractions/base
		{"web", "/etc/shadow", false},
		{"web//hat", "/srv/hat", true},
		{"web//hat", "/srv/www/index.html", false},
		{"web//null-/usr/bin/curl", "/etc/hosts", false}, // not in the file
		{"other", "/srv/www/index.html", false},
	}
	for i, tc := range tests {
		t.Run(tc.profile+" "+tc.name, func(t *testing.T) {
			rec, err := audit.Parse([]byte(avc(now, i+1, tc.profile, tc.name)))
			require.NoError(t, err)
			require.NotNil(t, rec.Event)
			got, err := c.Event(rec.Event)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			acc := propose.Accesses(rec.Event, rec.Event.ProfileName())
			require.Len(t, acc, 1)
			assert.Equal(t, tc.want, c.Covers(tc.profile, acc[0]), "the learner's answer")
		})
	}
}

// Events reads through audit.Read: only the window's records of the
// profile (from rollout.LoadLead before its start, for the load's record),
// and only the losses logged in the window (or of unknown time).
func TestEvents(t *testing.T) {
	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	var b bytes.Buffer
	b.WriteString(syslogLine(since.Add(-2*time.Minute), "audit: rate limit exceeded"))
	b.WriteString(syslogLine(since.Add(-2*time.Minute), `audit: type=1400 audit(`+fmt.Sprint(since.Add(-2*time.Minute).Unix())+`.000:10): apparmor="ALLOWED" operation="open" profile="web" name="/old" pid=1 comm="web" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`))
	// In the minute before the window, read for the load's record: not
	// in the window.
	b.WriteString(syslogLine(since.Add(-30*time.Second), "audit: rate limit exceeded"))
	b.WriteString(syslogLine(since.Add(time.Minute), `audit: type=1400 audit(`+fmt.Sprint(since.Add(time.Minute).Unix())+`.000:11): apparmor="ALLOWED" operation="open" profile="web" name="/new" pid=1 comm="web" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`))
	b.WriteString(syslogLine(since.Add(time.Minute), `audit: type=1400 audit(`+fmt.Sprint(since.Add(time.Minute).Unix())+`.000:12): apparmor="ALLOWED" operation="open" profile="other" name="/new" pid=1 comm="x" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`))
	b.WriteString(syslogLine(since.Add(2*time.Minute), `audit: type=1400 audit(`+fmt.Sprint(since.Add(2*time.Minute).Unix())+`.000:90): apparmor="ALLOWED" operation="open" profile="web//hat" name="/gap" pid=1 comm="web" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`))
	b.WriteString(syslogLine(since.Add(3*time.Minute), "audit: backlog limit exceeded"))
	log := filepath.Join(t.TempDir(), "syslog")
	require.NoError(t, os.WriteFile(log, b.Bytes(), 0o644))

	var names []string
	st, err := Events(GateSource{From: []string{log}}, "web")(context.Background(), rollout.Window{Name: "web", Start: since}, func(e *audit.Event) error {
		names = append(names, e.Name)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"/new", "/gap"}, names)
	assert.Equal(t, int64(1), st.Lost, "the backlog loss only: the rate limit was before the window, the serial gap is a hint")
	assert.Equal(t, []string{log}, st.Sources)
}

// Events passes on the kernel's STATUS record of the profile's load (the
// parser's, profile="unconfined" name=NAME), and counts the kernel records
// cut short in the window, apart from the lines refused as not the
// kernel's, which are no evidence either way.
func TestEventsEvidence(t *testing.T) {
	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	stamp := func(d time.Duration, serial int) string {
		return fmt.Sprintf("audit(%d.000:%d)", since.Add(d).Unix(), serial)
	}
	var b bytes.Buffer
	// Before the window: a record cut short does not count.
	b.WriteString(`type=AVC msg=` + stamp(-time.Minute, 10) + `: apparmor="ALLOWED" operation="open" profile="web" name="/ol` + "\n")
	b.WriteString(`type=AVC msg=` + stamp(time.Second, 11) + `: apparmor="STATUS" operation="profile_replace" profile="unconfined" name="web" pid=9 comm="apparmor_parser"` + "\n")
	b.WriteString(`type=AVC msg=` + stamp(time.Second, 12) + `: apparmor="STATUS" operation="profile_replace" profile="unconfined" name="other" pid=9 comm="apparmor_parser"` + "\n")
	// In the window: one cut short, and an undated one.
	b.WriteString(`type=AVC msg=` + stamp(time.Minute, 13) + `: apparmor="ALLOWED" operation="open" profile="web" name="/etc/sha` + "\n")
	b.WriteString(`type=AVC msg=audit(17: apparmor="ALLOWED" operation="open" profile="web" name="/x"` + "\n")
	// Not the kernel's: refused, not malformed.
	b.WriteString(`traps: t[31337] trap invalid opcode ip:4010 sp:7ffd error:0 in audit: type=1400 ` + stamp(time.Minute, 14) + `: apparmor="ALLOWED" operation="capable" profile="web" capname="sys_admin"` + "\n")
	log := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(log, b.Bytes(), 0o644))

	var got []string
	st, err := Events(GateSource{From: []string{log}}, "web")(context.Background(), rollout.Window{Name: "web", Start: since}, func(e *audit.Event) error {
		got = append(got, string(e.Mode)+" "+e.Operation+" "+e.Name)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"STATUS profile_replace web"}, got)
	assert.Equal(t, int64(2), st.Malformed, "the record cut short in the window and the undated one")
	assert.Contains(t, st.FirstMalformed, log+":4: ")
	assert.Equal(t, int64(1), st.Refused)
	assert.Equal(t, int64(0), st.Gaps, "10 to 11 is before the window; 13, 14 are in it")
}

// Serials missing between the window's records of auditd's log are
// records dropped (the rate limit leaves nothing else there): counted as
// gaps. Those before the window and auditd's own numbers are not.
func TestEventsSerialGaps(t *testing.T) {
	since := time.Now().Add(-time.Hour).Truncate(time.Second)
	line := func(d time.Duration, serial int, typ, body string) string {
		return fmt.Sprintf("type=%s msg=audit(%d.000:%d): %s\n", typ, since.Add(d).Unix(), serial, body)
	}
	avc := `apparmor="ALLOWED" operation="open" profile="web" name="/etc/web.conf" pid=5 comm="web" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	var b bytes.Buffer
	b.WriteString(line(-time.Hour, 2, "AVC", avc))
	b.WriteString(line(-time.Hour, 40, "AVC", avc)) // a gap before the window
	b.WriteString(line(-30*time.Minute, 6506, "DAEMON_START", `op=start ver=3.0.9 format=enriched kernel=6.1.0-57-amd64 auid=4294967295 pid=221 uid=0 ses=4294967295 res=success`))
	b.WriteString(line(time.Second, 41, "AVC", `apparmor="STATUS" operation="profile_replace" profile="unconfined" name="web" pid=9 comm="apparmor_parser"`))
	b.WriteString(line(time.Minute, 42, "USER_LOGIN", `pid=1 uid=0 auid=0 ses=1 msg='op=login id=0 exe="/usr/sbin/sshd" res=success'`))
	b.WriteString(line(time.Minute, 43, "AVC", avc))
	log := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(log, b.Bytes(), 0o644))
	read := func() rollout.SourceStats {
		st, err := Events(GateSource{From: []string{log}}, "web")(context.Background(), rollout.Window{Name: "web", Start: since}, func(*audit.Event) error { return nil })
		require.NoError(t, err)
		return st
	}
	assert.Equal(t, int64(0), read().Gaps, "every serial of the window is there")

	b.WriteString(line(2*time.Minute, 151, "AVC", avc)) // 44..150 dropped
	require.NoError(t, os.WriteFile(log, b.Bytes(), 0o644))
	assert.Equal(t, int64(107), read().Gaps)

	// auditd started in the minute before the window (the records of
	// the time it was stopped went to the kernel log): the gate reads
	// that minute for the load's record, but the gap is not in the window.
	var r bytes.Buffer
	r.WriteString(line(-30*time.Second, 100, "AVC", avc))
	r.WriteString(line(time.Second, 200, "AVC", `apparmor="STATUS" operation="profile_replace" profile="unconfined" name="web" pid=9 comm="apparmor_parser"`))
	r.WriteString(line(time.Minute, 201, "AVC", avc))
	require.NoError(t, os.WriteFile(log, r.Bytes(), 0o644))
	assert.Equal(t, int64(0), read().Gaps, "a gap before the window's start")

	// The kernel log's gaps stay hints (see audit.Lost.Auditd).
	var k bytes.Buffer
	for _, n := range []int{41, 42, 151} {
		t := since.Add(time.Duration(n) * time.Second)
		k.WriteString(syslogLine(t, fmt.Sprintf(`audit: type=1400 audit(%d.000:%d): %s`, t.Unix(), n, avc)))
	}
	require.NoError(t, os.WriteFile(log, k.Bytes(), 0o644))
	assert.Equal(t, int64(0), read().Gaps)
}

// /dev/kmsg never ends: the gate reads up to its newest record and returns.
func TestEventsKmsg(t *testing.T) {
	_, err := os.Stat("/dev/kmsg")
	require.NoError(t, err, "/dev/kmsg is needed")
	st, err := Events(GateSource{From: []string{"/dev/kmsg"}}, "web")(context.Background(), rollout.Window{Name: "web", Start: time.Now()}, func(*audit.Event) error { return nil })
	require.NoError(t, err)
	assert.Len(t, st.Sources, 1)
}

// GateOptions wires a managed profile's gate: an uncovered record in the
// window refuses, and is named.
func TestGateOptions(t *testing.T) {
	ctx := context.Background()
	d := t.TempDir()
	dirs := Dirs{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state")}
	require.NoError(t, os.MkdirAll(dirs.ProfileDir, 0o755))
	h := rollout.NewHost(dirs.ProfileDir, dirs.StateDir, "", filepath.Join(d, "nosecfs"))
	path := filepath.Join(dirs.ProfileDir, "web")
	_, err := h.Create(ctx, "web", path, "/usr/bin/web", []byte(webProfile), false, false)
	require.NoError(t, err)
	now := time.Now()
	log := filepath.Join(d, "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(avc(now.Add(-time.Hour), 1, "web", "/etc/old")+avc(now.Add(time.Second), 2, "web", "/srv/www/a")+avc(now.Add(time.Second), 3, "web", "/etc/secret")), 0o644))
	opts, err := GateOptions(GateSource{Dirs: dirs, From: []string{log}}, "web", 0)
	require.NoError(t, err)
	r, err := h.Gate(ctx, "web", opts)
	require.NoError(t, err)
	assert.False(t, r.Pass)
	assert.Equal(t, 2, r.Records)
	assert.Equal(t, 1, r.Uncovered)
	require.Len(t, r.Samples, 1)
	assert.Equal(t, "/etc/secret", r.Samples[0].Name)

	_, err = GateOptions(GateSource{Dirs: dirs}, "nosuch", 0)
	assert.Error(t, err)
}

// BenchmarkGate measures the gate's reading and coverage over a generated
// audit log of 10^5 records (half of them for the profile, a tenth of those
// uncovered), against a profile that includes abstractions/base.
func BenchmarkGate(b *testing.B) {
	logPath := filepath.Join(b.TempDir(), "audit.log")
	var buf bytes.Buffer
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 100000
	for i := 0; i < n; i++ {
		t := start.Add(time.Duration(i) * time.Millisecond)
		switch {
		case i%2 == 1:
			buf.WriteString(avc(t, i+1, "other", "/etc/x"))
		case i%20 == 0:
			buf.WriteString(avc(t, i+1, "web", fmt.Sprintf("/etc/secret/%d", i%100)))
		default:
			buf.WriteString(avc(t, i+1, "web", fmt.Sprintf("/srv/www/site/%d.html", i%1000)))
		}
	}
	require.NoError(b, os.WriteFile(logPath, buf.Bytes(), 0o644))
	events := Events(GateSource{From: []string{logPath}}, "web")
	b.ResetTimer()
	for b.Loop() {
		cov := webCoverage(b)
		records, uncovered := 0, 0
		_, err := events(context.Background(), rollout.Window{Name: "web", Start: start}, func(e *audit.Event) error {
			records++
			ok, err := cov.Event(e)
			if !ok {
				uncovered++
			}
			return err
		})
		require.NoError(b, err)
		require.Equal(b, n/2, records)
		require.Equal(b, n/20, uncovered)
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// The clock set back inside the window: once auditd's log shows the
// kernel's STATUS record of the reload that started the window, every
// record after it is in the window whatever its stamp. The gate counts the
// records, the serials missing and the record cut short that follow it,
// though all are dated an hour before the window's start (it used to drop
// them all and open on a window it never saw).
func TestGateClockBack(t *testing.T) {
	ctx := context.Background()
	d := t.TempDir()
	dirs := Dirs{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state")}
	require.NoError(t, os.MkdirAll(dirs.ProfileDir, 0o755))
	h := rollout.NewHost(dirs.ProfileDir, dirs.StateDir, "", filepath.Join(d, "nosecfs"))
	h.AuditStatus = func() (kernel.AuditStatus, error) { return kernel.AuditStatus{}, nil }
	_, err := h.Create(ctx, "web", filepath.Join(dirs.ProfileDir, "web"), "/usr/bin/web", []byte(webProfile), false, false)
	require.NoError(t, err)
	start, err := h.WindowStart("web")
	require.NoError(t, err)
	back := start.Add(-time.Hour) // the clock, set back after the reload
	stamp := func(at time.Time, serial int) string {
		return fmt.Sprintf("audit(%d.%03d:%d)", at.Unix(), at.Nanosecond()/1e6, serial)
	}
	var b strings.Builder
	b.WriteString(avc(start.Add(-2*time.Hour), 1, "web", "/etc/before-the-window"))
	b.WriteString("type=AVC msg=" + stamp(start.Add(-100*time.Millisecond), 2) + `: apparmor="STATUS" operation="profile_replace" info="same as current profile, skipping" profile="unconfined" name="web" pid=9 comm="apparmor_parser"` + "\n")
	b.WriteString(avc(back, 3, "web", "/srv/www/a"))
	b.WriteString(avc(back, 4, "web", "/etc/secret"))
	b.WriteString(avc(back.Add(time.Second), 40, "other", "/x")) // 5..39 missing
	b.WriteString("type=AVC msg=" + stamp(back.Add(time.Second), 41) + `: apparmor="ALLOWED" operation="open" profile="web" name="/etc/sha` + "\n")
	log := filepath.Join(d, "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(b.String()), 0o644))

	opts, err := GateOptions(GateSource{Dirs: dirs, From: []string{log}}, "web", 0)
	require.NoError(t, err)
	r, err := h.Gate(ctx, "web", opts)
	require.NoError(t, err)
	require.NotNil(t, r.Loaded, r.Reasons)
	assert.Equal(t, 2, r.Records, "the records after the STATUS record, dated before the window")
	assert.Equal(t, 1, r.Uncovered)
	require.Len(t, r.Samples, 1)
	assert.Equal(t, "/etc/secret", r.Samples[0].Name)
	assert.Equal(t, int64(35), r.Gaps, "serials 5 to 39")
	assert.Equal(t, int64(1), r.Malformed)
	assert.Equal(t, rollout.EvidenceIncomplete, r.Evidence)
	assert.False(t, r.Pass)
}
