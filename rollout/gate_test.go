package rollout

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aa-flow/aa-flow/audit"
)

// A refusal names what a record without a file name was about.
func TestSampleDetail(t *testing.T) {
	tests := []struct {
		name string
		e    audit.Event
		want string
	}{
		{"file", audit.Event{Name: "/etc/x", Capname: "chown"}, ""},
		{"capability", audit.Event{Capname: "net_admin"}, "capability net_admin"},
		{"network", audit.Event{Family: "inet", SockType: "raw"}, "network inet raw"},
		{"network without type", audit.Event{Family: "unix"}, "network unix"},
		{"signal", audit.Event{Signal: "term", Peer: "web"}, "signal term peer=web"},
		{"ptrace on an older kernel", audit.Event{PeerProfile: "web"}, "peer=web"},
		{"nothing to say", audit.Event{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, detail(&tc.e))
		})
	}
}
