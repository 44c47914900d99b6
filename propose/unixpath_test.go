package propose

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
)

// Records of unix sockets bound to a path (as the 7.3 kernel logs them)
// become the held addr=none rule; abstract and unnamed ones do not.
func TestProposePathSockets(t *testing.T) {
	rec := func(op, req, addr, peer string) string {
		l := `type=AVC msg=audit(1796609649.312:448): apparmor="ALLOWED" operation="` + op + `" class="net" info="failed af match" error=-13 profile="aatest" pid=580 comm="aatest" family="unix" sock_type="stream" protocol=0 requested="` + req + `" denied="` + req + `" addr=` + addr
		if peer != "" {
			l += " peer_addr=" + peer
		}
		return l
	}
	tests := []struct {
		name  string
		lines []string
		want  string // the one rule
		held  string // part of Held; "" for not held
	}{
		{"bind and listen on a path", []string{rec("bind", "bind", `"/run/app.sock"`, ""), rec("listen", "listen", `"/run/app.sock"`, "")},
			"unix (bind, listen) type=stream addr=none,", "cannot name the socket path /run/app.sock: this rule allows (bind, listen) on any stream unix socket bound to a path, with any peer, and on unnamed ones (addr=none)"},
		{"a client connecting to a path", []string{rec("connect", "send receive connect", "none", `"/run/app.sock"`)},
			"unix (connect, receive, send) type=stream addr=none,", "/run/app.sock"},
		{"an abstract socket connecting to a path", []string{rec("connect", "connect", `"@cli"`, `"/run/app.sock"`)},
			"unix connect type=stream addr=@cli,", "with any peer, and on its own socket @cli"},
		{"abstract: as logged", []string{rec("bind", "bind", `"@aatest"`, "")},
			"unix bind type=stream addr=@aatest,", ""},
		{"unnamed: no address", []string{rec("create", "create", "none", "")},
			"unix create type=stream,", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var evs []*audit.Event
			for _, l := range tt.lines {
				r, err := audit.Parse([]byte(l))
				require.NoError(t, err)
				require.NotNil(t, r.Event)
				evs = append(evs, r.Event)
			}
			f, err := parser.Parse("aatest", []byte("profile aatest flags=(complain) {\n}\n"))
			require.NoError(t, err)
			prop, err := Propose(f, "aatest", evs, ProposeOptions{})
			require.NoError(t, err)
			require.Len(t, prop.Rules, 1, "%v", prop.Rules)
			r := prop.Rules[0]
			assert.Equal(t, tt.want, r.Text)
			if tt.held == "" {
				assert.Empty(t, r.Held)
				return
			}
			assert.Contains(t, r.Held, tt.held)
			assert.Contains(t, r.Why, "invalid value for addr")
			assert.Equal(t, len(tt.lines), r.Evidence.Count)
		})
	}
}
