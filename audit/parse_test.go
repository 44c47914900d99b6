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
