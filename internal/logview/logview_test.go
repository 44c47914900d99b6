package logview_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/logview"
	"github.com/aa-flow/aa-flow/internal/testutil"
)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if testutil.Update() {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/logview -update to create it")
	assert.Equal(t, string(want), string(got))
}

// render reads a real kernel capture and renders every record, then the
// summary.
func render(t *testing.T, color bool, mode logview.ModeFilter) []byte {
	t.Helper()
	src := testutil.Capture(t, "debian-6.1-dmesg-scenario.log")
	var out bytes.Buffer
	p := &logview.Printer{Color: color}
	shown := map[string]map[audit.Mode]int{}
	res, err := audit.Read(context.Background(), audit.ReadOptions{From: []string{src}}, func(e *audit.Event) error {
		if !mode.Keep(e) {
			return nil
		}
		if shown[e.ProfileName()] == nil {
			shown[e.ProfileName()] = map[audit.Mode]int{}
		}
		shown[e.ProfileName()][e.Mode]++
		out.WriteString(p.Line(e))
		out.WriteByte('\n')
		return nil
	})
	require.NoError(t, err)
	// Stable across checkouts: base names only.
	res.Sources = []string{filepath.Base(src)}
	for i := range res.Stats.Lost {
		res.Stats.Lost[i].Source = filepath.Base(res.Stats.Lost[i].Source)
	}
	out.WriteString("--- summary\n")
	logview.WriteSummary(&out, res, shown, color)
	return out.Bytes()
}

func TestLinesGolden(t *testing.T) {
	golden(t, "scenario.golden", render(t, false, "all"))
	golden(t, "scenario-denied-color.golden", render(t, true, "denied"))
}

func TestObjects(t *testing.T) {
	u := int64(audit.Unset)
	for _, tc := range []struct {
		name string
		e    audit.Event
		want string
	}{
		{"file", audit.Event{Name: "/etc/passwd", Capability: u, Protocol: u, Lport: u, Fport: u}, "/etc/passwd"},
		{"space", audit.Event{Name: "/tmp/a b", Capability: u, Protocol: u, Lport: u, Fport: u}, `"/tmp/a b"`},
		{"link", audit.Event{Name: "/a", Name2: "/b", Capability: u, Protocol: u, Lport: u, Fport: u}, "/a -> /b"},
		{"exec", audit.Event{Name: "/bin/sh", Target: "p//null-/bin/sh", Capability: u, Protocol: u, Lport: u, Fport: u}, "/bin/sh -> p//null-/bin/sh"},
		{"net", audit.Event{Family: "inet", SockType: "stream", Protocol: 6, Faddr: "10.0.0.1", Fport: 443, Capability: u, Lport: u}, "inet stream proto=6 faddr=10.0.0.1:443"},
		{"net6", audit.Event{Family: "inet6", SockType: "dgram", Protocol: u, Laddr: "::1", Lport: 53, Capability: u, Fport: u}, "inet6 dgram laddr=[::1]:53"},
		{"cap", audit.Event{Operation: "capable", Capability: 12, Capname: "net_admin", Protocol: u, Lport: u, Fport: u}, "capability net_admin"},
		{"signal", audit.Event{Signal: "term", Peer: "unconfined", Capability: u, Protocol: u, Lport: u, Fport: u}, "signal=term peer=unconfined"},
		{"ptrace", audit.Event{Peer: "/usr/bin/x", Capability: u, Protocol: u, Lport: u, Fport: u}, "peer=/usr/bin/x"},
	} {
		assert.Equal(t, tc.want, logview.Object(&tc.e), tc.name)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
		err  bool
	}{
		{"", time.Time{}, false},
		{"2h", now.Add(-2 * time.Hour), false},
		{"90m", now.Add(-90 * time.Minute), false},
		{"3d", now.AddDate(0, 0, -3), false},
		{"2026-11-22", time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC), false},
		{"2026-11-22 10:30", time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC), false},
		{"2026-11-22T10:30:00+01:00", time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC), false},
		{"@1795341600", time.Unix(1795341600, 0), false},
		{"yesterday", time.Time{}, true},
	} {
		got, err := logview.ParseSince(tc.in, now)
		if tc.err {
			assert.Error(t, err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.True(t, tc.want.Equal(got), "%s: got %v want %v", tc.in, got, tc.want)
	}
}

func TestModeFilter(t *testing.T) {
	_, err := logview.ParseModeFilter("some")
	assert.Error(t, err)
	d, a, all := logview.ModeFilter("denied"), logview.ModeFilter("allowed"), logview.ModeFilter("all")
	for _, tc := range []struct {
		m          audit.Mode
		d, a, each bool
	}{
		{audit.ModeDenied, true, false, true},
		{audit.ModeKill, true, false, true},
		{audit.ModeAllowed, false, true, true},
		{audit.ModeStatus, false, false, true},
	} {
		e := &audit.Event{Mode: tc.m}
		assert.Equal(t, tc.d, d.Keep(e), tc.m)
		assert.Equal(t, tc.a, a.Keep(e), tc.m)
		assert.Equal(t, tc.each, all.Keep(e), tc.m)
	}
}

// Names with C1 controls or bidirectional controls are quoted with escapes
// (issue 13 item 7): a terminal acts on none of them.
func TestObjectEscapes(t *testing.T) {
	tests := map[string]string{
		"/etc/passwd":      "/etc/passwd",
		"/srv/a\u202eexe":  `"/srv/a\u202eexe"`,
		"/srv/\u009b31m":   `"/srv/\u009b31m"`,
		"/srv/\x1b[2J":     `"/srv/\x1b[2J"`,
		"/srv/caf\u00e9/x": "/srv/caf\u00e9/x",
	}
	for in, want := range tests {
		e := &audit.Event{Operation: "open", Name: in}
		assert.Contains(t, logview.Object(e), want, "%q", in)
	}
}

// TestSummaryRefused: the summary says how many lines were refused as not
// the kernel's, where, and why.
func TestSummaryRefused(t *testing.T) {
	log := filepath.Join(t.TempDir(), "syslog")
	require.NoError(t, os.WriteFile(log, []byte(`Dec  6 10:00:00 web1 cron[812]: audit: type=1400 audit(1795341600.031:1006): apparmor="ALLOWED" operation="capable" class="cap" profile="svc" pid=1 comm="t" capability=21 capname="sys_admin"`+"\n"), 0o644))
	res, err := audit.Read(context.Background(), audit.ReadOptions{From: []string{log}}, func(*audit.Event) error { return nil })
	require.NoError(t, err)
	var b bytes.Buffer
	logview.WriteSummary(&b, res, nil, false)
	assert.Contains(t, b.String(), "1 lines refused as not the kernel's (first: "+log+":1): 1: a syslog line from a program other than the kernel")
}
