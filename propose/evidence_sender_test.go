package propose_test

import (
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
