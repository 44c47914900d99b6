package audit_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
)

// A Window read: the STATUS record that opens it, in a rotated file, and
// the clock set back in the live file after it. Every record, loss report
// and malformed line logged after the opening record is in the window
// whatever its stamp; a source that never shows the opening record keeps
// only what is dated in the window.
func TestReadWindowClockBack(t *testing.T) {
	dir := t.TempDir()
	start := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	back := start.Add(-time.Hour) // the clock, set back inside the window
	line := func(at time.Time, msg string) string {
		return at.UTC().Format("2006-01-02T15:04:05.000000-07:00") + " host kernel: " + msg + "\n"
	}
	serial := 0
	rec := func(at time.Time, body string) string {
		serial++
		return line(at, fmt.Sprintf("audit: type=1400 audit(%d.%03d:%d): %s", at.Unix(), at.Nanosecond()/1e6, serial, body))
	}
	open := func(name string) string {
		return `apparmor="ALLOWED" operation="open" profile="web" name="` + name + `" pid=5 comm="web" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	}
	status := `apparmor="STATUS" operation="profile_replace" profile="unconfined" name="web" pid=9 comm="apparmor_parser"`
	log := filepath.Join(dir, "kern.log")
	rotated := rec(start.Add(-2*time.Hour), open("/before")) +
		rec(start.Add(-30*time.Second), open("/before-the-reload")) +
		rec(start.Add(-100*time.Millisecond), status) +
		rec(start.Add(time.Second), open("/in-window"))
	live := rec(start.Add(2*time.Second), open("/live")) +
		rec(back, open("/after-the-step")) +
		line(back, "audit: backlog limit exceeded") +
		line(back, fmt.Sprintf(`audit: type=1400 audit(%d.000:%d): apparmor="ALLOWED" operation="open" profile="web" name="/cut`, back.Unix(), serial+1))
	require.NoError(t, os.WriteFile(log+".1", []byte(rotated), 0o644))
	require.NoError(t, os.WriteFile(log, []byte(live), 0o644))
	// Another source, which never shows the opening record.
	other := filepath.Join(dir, "other.log")
	require.NoError(t, os.WriteFile(other, []byte(rec(back, open("/other-back"))+rec(start.Add(time.Minute), open("/other-in"))+line(back, "audit: rate limit exceeded")), 0o644))

	opt := noHost(dir)
	opt.From = []string{log, other}
	opt.Since = start.Add(-time.Minute)
	opt.Window = &audit.Window{Start: start, Opens: func(e *audit.Event) bool {
		return e.Mode == audit.ModeStatus && e.Name == "web"
	}}
	evs, res := collect(t, opt)
	var got []string
	for _, e := range evs {
		got = append(got, e.Name)
	}
	assert.Equal(t, []string{"web", "/in-window", "/live", "/after-the-step", "/other-in"}, got)

	var lost []string
	for _, l := range res.Stats.Lost {
		lost = append(lost, fmt.Sprintf("%s %s in-window=%v", filepath.Base(l.Source), l.Kind, l.InWindow))
	}
	assert.Equal(t, []string{"kern.log backlog in-window=true", "other.log rate-limit in-window=false"}, lost)
	require.Len(t, res.Stats.Malformed, 1)
	assert.True(t, res.Stats.Malformed[0].InWindow)
	assert.Equal(t, 1, res.Stats.MalformedSince(start), "dated an hour before the window, logged in it")

	// Without the Window, Since drops what the clock set back.
	opt.Window = nil
	evs, _ = collect(t, opt)
	got = got[:0]
	for _, e := range evs {
		got = append(got, e.Name)
	}
	assert.NotContains(t, strings.Join(got, " "), "/after-the-step")
}
