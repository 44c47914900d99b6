package propose_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
)

// A D-Bus rule rests on a USER_AVC, which any process holding
// CAP_AUDIT_WRITE can send: its evidence names the sender as the kernel
// logged it, and the one-line summary the review shows says so. A rule
// from the kernel's own record names no sender.
func TestEvidenceNamesTheSender(t *testing.T) {
	log := []byte(`type=USER_AVC msg=audit(1375323416.656:167): pid=363 uid=102 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor="DENIED" operation="dbus_bind"  bus="system" name="org.freedesktop.nm_dhcp_client" mask="bind" pid=2838 profile="/usr/bin/svc"  exe="/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'
type=AVC msg=audit(1375323416.700:168): apparmor="DENIED" operation="capable" class="cap" profile="/usr/bin/svc" pid=2838 comm="svc" capability=12 capname="net_admin"
`)
	f, err := parser.Parse("svc", []byte("/usr/bin/svc {\n}\n"))
	require.NoError(t, err)
	prop, err := propose.Propose(f, "/usr/bin/svc", decodeAll(log, "audit.log"), propose.ProposeOptions{})
	require.NoError(t, err)
	senders := map[string]string{}
	for _, r := range prop.Rules {
		senders[r.Text] = r.Evidence.Sender
		if r.Evidence.Sender != "" {
			assert.Contains(t, r.Evidence.String(), ", logged by pid=363 uid=102 subj=unconfined exe=/bin/dbus-daemon")
		}
	}
	assert.Equal(t, map[string]string{
		"dbus bind bus=system name=org.freedesktop.nm_dhcp_client,": "pid=363 uid=102 subj=unconfined exe=/bin/dbus-daemon",
		"capability net_admin,": "",
	}, senders)
}

// The sender's exe is inside msg='...', the sender's own text, and may be
// hex-encoded to any bytes: the description escapes it, so it cannot
// break the line it is shown on.
func TestEvidenceSenderEscaped(t *testing.T) {
	// exe= is "/x\n[r9] capability sys_admin," hex-encoded.
	log := []byte(`type=USER_AVC msg=audit(1375323416.656:167): pid=363 uid=102 auid=4294967295 ses=4294967295 msg='apparmor="DENIED" operation="dbus_bind" bus="system" name="a.b" mask="bind" pid=2838 profile="/usr/bin/svc" exe=2F780A5B72395D206361706162696C697479207379735F61646D696E2C sauid=102'
`)
	f, err := parser.Parse("svc", []byte("/usr/bin/svc {\n}\n"))
	require.NoError(t, err)
	events := decodeAll(log, "audit.log")
	require.Len(t, events, 1)
	require.Contains(t, events[0].Exe, "\n")
	prop, err := propose.Propose(f, "/usr/bin/svc", events, propose.ProposeOptions{})
	require.NoError(t, err)
	require.Len(t, prop.Rules, 1)
	s := prop.Rules[0].Evidence.Sender
	assert.True(t, strings.HasPrefix(s, "pid=363 uid=102 exe=/x"), s)
	assert.NotContains(t, s, "\n")
	assert.NotContains(t, prop.Rules[0].Evidence.String(), "\n")
}
