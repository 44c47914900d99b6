package kernel

import (
	"encoding/binary"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nlmsg is one netlink message as <linux/netlink.h> lays it out: struct
// nlmsghdr (len u32, type u16, flags u16, seq u32, pid u32) then the
// payload, padded to 4 bytes.
func nlmsg(typ, flags uint16, seq uint32, payload []byte) []byte {
	ne := binary.NativeEndian
	b := ne.AppendUint32(nil, uint32(16+len(payload)))
	b = ne.AppendUint16(b, typ)
	b = ne.AppendUint16(b, flags)
	b = ne.AppendUint32(b, seq)
	b = ne.AppendUint32(b, 0) // from the kernel: port 0
	b = append(b, payload...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// u32s lays out fields as consecutive native-endian u32s, as struct
// audit_status is (<linux/audit.h>).
func u32s(fields ...uint32) []byte {
	var b []byte
	for _, f := range fields {
		b = binary.NativeEndian.AppendUint32(b, f)
	}
	return b
}

// nlerr is an NLMSG_ERROR payload: the error (a negative errno, or 0 for
// an ack) and the request's header.
func nlerr(errno int32, seq uint32) []byte {
	b := binary.NativeEndian.AppendUint32(nil, uint32(errno))
	return append(b, encodeAuditGet(seq)...)
}

func TestEncodeAuditGet(t *testing.T) {
	b := encodeAuditGet(0x01020304)
	ne := binary.NativeEndian
	require.Len(t, b, 16, "a header alone")
	assert.Equal(t, uint32(16), ne.Uint32(b[0:]), "nlmsg_len")
	assert.Equal(t, uint16(1000), ne.Uint16(b[4:]), "nlmsg_type AUDIT_GET")
	assert.Equal(t, uint16(0x1|0x4), ne.Uint16(b[6:]), "NLM_F_REQUEST|NLM_F_ACK")
	assert.Equal(t, uint32(0x01020304), ne.Uint32(b[8:]), "nlmsg_seq")
	assert.Equal(t, uint32(0), ne.Uint32(b[12:]), "nlmsg_pid")
}

func TestDecodeAuditReplies(t *testing.T) {
	const seq = 77
	// mask, enabled, failure, pid, rate_limit, backlog_limit, lost,
	// backlog, feature_bitmap, backlog_wait_time, backlog_wait_time_actual
	full := u32s(0x7f, 1, 1, 812, 0, 8192, 12345, 3, 0x7f, 15000, 9)
	tests := []struct {
		name    string
		in      []byte
		want    *AuditStatus
		acked   bool
		wantErr string
		errno   syscall.Errno
	}{
		{name: "ack first, then the reply (a kernel thread sends it)",
			in:    append(nlmsg(nlmsgError, 0, seq, nlerr(0, seq)), nlmsg(auditGet, 0, seq, full)...),
			want:  &AuditStatus{Enabled: 1, Failure: 1, PID: 812, BacklogLimit: 8192, Lost: 12345, Backlog: 3, BacklogWaitTime: 15000},
			acked: true},
		{name: "an older kernel's shorter struct, through backlog",
			in:   nlmsg(auditGet, 0, seq, u32s(0x3f, 1, 1, 0, 5, 64, 4, 0)),
			want: &AuditStatus{Enabled: 1, Failure: 1, RateLimit: 5, BacklogLimit: 64, Lost: 4}},
		{name: "the ack alone", in: nlmsg(nlmsgError, 0, seq, nlerr(0, seq)), acked: true},
		{name: "another request's answer is skipped", in: nlmsg(auditGet, 0, seq+1, full)},
		{name: "not permitted", in: nlmsg(nlmsgError, 0, seq, nlerr(-int32(syscall.EPERM), seq)), errno: syscall.EPERM},
		{name: "a container's user namespace", in: nlmsg(nlmsgError, 0, seq, nlerr(-int32(syscall.ECONNREFUSED), seq)), errno: syscall.ECONNREFUSED},
		{name: "reply cut short", in: nlmsg(auditGet, 0, seq, u32s(1, 2, 3, 4, 5, 6, 7)), wantErr: "cut short: 28 bytes, want at least 32"},
		{name: "header cut short", in: nlmsg(auditGet, 0, seq, full)[:10], wantErr: "header cut short: 10 bytes"},
		{name: "length beyond the datagram", in: nlmsg(auditGet, 0, seq, full)[:30], wantErr: "length 60 out of range (30 bytes left)"},
		{name: "length below a header", in: func() []byte {
			b := nlmsg(auditGet, 0, seq, full)
			binary.NativeEndian.PutUint32(b, 8)
			return b
		}(), wantErr: "length 8 out of range"},
		{name: "error message cut short", in: nlmsg(nlmsgError, 0, seq, []byte{1, 2}), wantErr: "error message cut short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, acked, err := decodeAuditReplies(tt.in, seq)
			switch {
			case tt.errno != 0:
				require.ErrorIs(t, err, tt.errno)
				return
			case tt.wantErr != "":
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, st)
			assert.Equal(t, tt.acked, acked)
		})
	}
}

// The errors say why the status cannot be read, and are told apart by
// ErrAuditStatus and the errno.
func TestAuditErr(t *testing.T) {
	err := auditErr("AUDIT_GET", syscall.ECONNREFUSED)
	require.ErrorIs(t, err, ErrAuditStatus)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	assert.Contains(t, err.Error(), "initial user namespace")
	assert.Contains(t, auditErr("x", syscall.EPERM).Error(), "CAP_AUDIT_CONTROL")
	assert.Contains(t, auditErr("x", syscall.EPROTONOSUPPORT).Error(), "no audit support")
}
