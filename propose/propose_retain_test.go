package propose_test

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/propose"
)

// inBuffer returns a copy of e whose strings all live in one byte buffer,
// and the buffer: overwriting it afterwards changes every string of the
// copy, as reusing a line buffer would.
func inBuffer(e *audit.Event) (*audit.Event, []byte) {
	c := *e
	v := reflect.ValueOf(&c).Elem()
	n := 0
	for i := 0; i < v.NumField(); i++ {
		if f := v.Field(i); f.Kind() == reflect.String {
			n += f.Len()
		}
	}
	buf := make([]byte, 0, n)
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if f.Kind() != reflect.String || f.Len() == 0 {
			continue
		}
		start := len(buf)
		buf = append(buf, f.String()...)
		f.SetString(unsafe.String(&buf[start], f.Len()))
	}
	return &c, buf
}

// A Proposer keeps nothing of the events it is fed: every event's memory
// is scribbled over right after Add, and the proposal is the same as the
// one made from untouched events (audit.Read reuses its events; learn
// passes them on as they are).
func TestProposerKeepsNoEventMemory(t *testing.T) {
	events := benchEvents(3000)
	// Events of every class, with sets (signals), peers, execs and links.
	for _, l := range []string{
		`type=AVC msg=audit(1795343979.100:1): apparmor="ALLOWED" operation="exec" profile="svc" name="/usr/bin/helper" pid=5 comm="svc" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="svc//null-/usr/bin/helper"`,
		`type=AVC msg=audit(1795343979.101:2): apparmor="ALLOWED" operation="open" profile="svc//null-/usr/bin/helper" name="/etc/helper.conf" pid=6 comm="helper" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`,
		`type=AVC msg=audit(1795343979.102:3): apparmor="ALLOWED" operation="link" profile="svc" name="/var/lib/svc/new" pid=5 comm="svc" requested_mask="l" denied_mask="l" fsuid=0 ouid=0 target="/var/lib/svc/old"`,
		`type=AVC msg=audit(1795343979.103:4): apparmor="ALLOWED" operation="ptrace" class="ptrace" profile="svc" pid=5 comm="svc" requested_mask="read" denied_mask="read" peer="svc//null-/usr/bin/helper"`,
		`type=AVC msg=audit(1795343979.104:5): apparmor="ALLOWED" operation="capable" info="optional: no audit" profile="svc" pid=5 comm="svc" capability=12  capname="net_admin"`,
		`type=AVC msg=audit(1795343979.105:6): apparmor="ALLOWED" operation="connect" class="net" profile="svc" pid=5 comm="svc" family="unix" sock_type="stream" protocol=0 requested_mask="send receive connect" denied_mask="send receive connect" addr=none peer_addr="@/tmp/.X11-unix/X0" peer="unconfined"`,
	} {
		rec, err := audit.Parse([]byte(l))
		require.NoError(t, err)
		events = append(events, rec.Event)
	}
	opts := propose.ProposeOptions{Vars: tunablesVars(), Now: time.Unix(1795343990, 0)}
	want, err := propose.Propose(nil, "svc", events, opts)
	require.NoError(t, err)

	p := propose.NewProposer(nil, "svc", opts)
	for _, e := range events {
		c, buf := inBuffer(e)
		p.Add(c)
		for i := range buf {
			buf[i] = 'X'
		}
	}
	got, err := p.Proposal()
	require.NoError(t, err)
	require.NotEmpty(t, want.Rules)
	wj, err := json.Marshal(want)
	require.NoError(t, err)
	gj, err := json.Marshal(got)
	require.NoError(t, err)
	require.JSONEq(t, string(wj), string(gj))
}
