package main

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// datagram builds a kernel record as the kernel sends it: nlmsg_len holds the
// payload length only (the quirk), the payload is NUL-terminated.
func datagram(typ uint16, payload string) []byte {
	b := make([]byte, 16+len(payload)+1)
	binary.LittleEndian.PutUint32(b[0:], uint32(len(payload)+1))
	binary.LittleEndian.PutUint16(b[4:], typ)
	copy(b[16:], payload)
	return b
}

func TestFormat(t *testing.T) {
	avc := `audit(1763840000.123:42): apparmor="DENIED" operation="open" class="file" profile="webd" name="/etc/shadow" pid=81 comm="webd" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	tests := []struct {
		name string
		dg   []byte
		want string
		ok   bool
	}{
		{"avc", datagram(1400, avc), "type=AVC msg=" + avc + "\n", true},
		{"syscall", datagram(1300, "audit(1763840000.123:42): arch=c000003e syscall=257 success=no"), "type=SYSCALL msg=audit(1763840000.123:42): arch=c000003e syscall=257 success=no\n", true},
		{"proctitle", datagram(1327, "audit(1763840000.123:42): proctitle=7765626400"), "type=PROCTITLE msg=audit(1763840000.123:42): proctitle=7765626400\n", true},
		{"apparmor status", datagram(1505, `audit(1.000:1): apparmor="STATUS"`), `type=APPARMOR_ERROR msg=audit(1.000:1): apparmor="STATUS"` + "\n", true},
		{"unknown type", datagram(1334, "audit(1.000:2): x=1"), "type=UNKNOWN[1334] msg=audit(1.000:2): x=1\n", true},
		{"end of event is not written", datagram(1320, "audit(1.000:2): "), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseDatagram(tt.dg)
			require.NoError(t, err)
			line, ok := Format(m)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, string(line))
		})
	}
}

func TestParseDatagram(t *testing.T) {
	_, err := ParseDatagram([]byte{1, 2, 3})
	require.Error(t, err)

	ack := make([]byte, 16+20)
	binary.LittleEndian.PutUint16(ack[4:], nlmsgError)
	m, err := ParseDatagram(ack)
	require.NoError(t, err)
	assert.Equal(t, int32(0), m.Errno)

	binary.LittleEndian.PutUint32(ack[16:], uint32(0xffffffff)) // -EPERM
	m, err = ParseDatagram(ack)
	require.NoError(t, err)
	assert.Equal(t, int32(-1), m.Errno)

	_, err = ParseDatagram(ack[:18])
	require.Error(t, err, "an NLMSG_ERROR without its code")
}

func TestSetRequest(t *testing.T) {
	b := SetRequest(1234, 7, 8192)
	le := binary.LittleEndian
	require.Len(t, b, 16+44)
	assert.Equal(t, uint32(len(b)), le.Uint32(b[0:]), "nlmsg_len")
	assert.Equal(t, uint16(auditSet), le.Uint16(b[4:]))
	assert.Equal(t, uint16(nlmFRequest|nlmFAck), le.Uint16(b[6:]))
	assert.Equal(t, uint32(7), le.Uint32(b[8:]), "seq")
	s := b[16:]
	assert.Equal(t, uint32(statusEnabled|statusPID|statusRateLimit|statusBacklogLimit), le.Uint32(s[0:]), "mask")
	assert.Equal(t, uint32(1), le.Uint32(s[4:]), "enabled")
	assert.Equal(t, uint32(1234), le.Uint32(s[12:]), "pid")
	assert.Equal(t, uint32(0), le.Uint32(s[16:]), "rate_limit")
	assert.Equal(t, uint32(8192), le.Uint32(s[20:]), "backlog_limit")
}
