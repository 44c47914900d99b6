package audit

import (
	"path/filepath"
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A USER_AVC whose message a syslog daemon broke at a newline is one record
// again when the Decoder reads it line by line, as a log file is read:
// test_multi's testcase_dbus_09 keeps its exe= (libapparmor's Command).
func TestDecoderJoinsContinuationLine(t *testing.T) {
	dir := testutil.Corpus(t, "libapparmor-test_multi")
	lines := decReadLines(t, filepath.Join(dir, "testcase_dbus_09.in"))
	require.Len(t, lines, 2)
	d := NewDecoder()
	evs := decFeedAll(t, d, "kern.log", lines)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, "/usr/bin/dbus-daemon", e.Exe)
	assert.Equal(t, "LookupDynamicUserByName", e.Member)
	assert.Equal(t, 1, e.Line)
	s := d.Stats()
	assert.Equal(t, 2, s.Lines)
	assert.Equal(t, 1, s.Records)
	assert.Zero(t, s.Skipped)
	assert.Zero(t, s.MalformedTotal)
}

// A header-less line joins only the open USER_AVC right before it, from
// the same source, when it closes the message and changes nothing the
// record said.
func TestDecoderContinuationLimits(t *testing.T) {
	open := `Jun 20 17:57:06 ns1 kernel: [4835959.046111] audit: type=1107 audit(1561053426.749:186): pid=640 uid=103 auid=4294967295 ses=4294967295 msg='apparmor="ALLOWED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/systemd1" interface="org.freedesktop.systemd1.Manager" member="LookupDynamicUserByName" mask="send" name="org.freedesktop.systemd1" pid=20596 label="/usr/sbin/svc" peer_pid=1 peer_label="unconfined"`
	closed := `Jun 20 17:57:06 ns1 kernel: [4835959.046111] audit: type=1107 audit(1561053426.749:186): pid=640 uid=103 auid=4294967295 ses=4294967295 msg='apparmor="ALLOWED" operation="dbus_method_call"  bus="system" path="/org/freedesktop/systemd1" interface="org.freedesktop.systemd1.Manager" member="LookupDynamicUserByName" mask="send" name="org.freedesktop.systemd1" pid=20596 label="/usr/sbin/svc" peer_pid=1 peer_label="unconfined" exe="/usr/bin/dbus-daemon"'`
	cont := `                  exe="/usr/bin/evil" sauid=103 hostname=? addr=? terminal=?'`
	tests := []struct {
		name  string
		lines []string
		exe   string
		label string
	}{
		{"joined", []string{open, cont}, "/usr/bin/evil", "/usr/sbin/svc"},
		{"not indented", []string{open, `exe="/usr/bin/evil" terminal=?'`}, "", "/usr/sbin/svc"},
		{"does not close the message", []string{open, `   exe="/usr/bin/evil" terminal=?`}, "", "/usr/sbin/svc"},
		{"after a closed message", []string{closed, cont}, "/usr/bin/dbus-daemon", "/usr/sbin/svc"},
		{"changes a key", []string{open, `   label="/usr/bin/other" exe="/usr/bin/evil"'`}, "", "/usr/sbin/svc"},
		{"carries a record", []string{open, `   apparmor="DENIED" exe="/usr/bin/evil"'`}, "", "/usr/sbin/svc"},
		{"a line between", []string{open, "Jun 20 17:57:07 ns1 cron[1]: hello", cont}, "", "/usr/sbin/svc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := decFeedAll(t, NewDecoder(), "kern.log", tt.lines)
			require.Len(t, evs, 1)
			assert.Equal(t, tt.exe, evs[0].Exe)
			assert.Equal(t, tt.label, evs[0].Label)
		})
	}

	// Another source's line in between: not joined.
	d := NewDecoder()
	evs := d.Feed([]byte(open), "a.log", 1)
	evs = append(evs, d.Feed([]byte(cont), "b.log", 2)...)
	evs = append(evs, d.Flush()...)
	require.Len(t, evs, 1)
	assert.Empty(t, evs[0].Exe)
}
