package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// AuditStatus is the kernel audit subsystem's state, as it answers
// AUDIT_GET on its netlink socket (struct audit_status in
// <linux/audit.h>; what `auditctl -s` prints).
type AuditStatus struct {
	Enabled      uint32 // 0 off, 1 on, 2 locked
	Failure      uint32 // what a failure to log does: 0 silent, 1 printk, 2 panic
	PID          uint32 // the audit daemon's pid; 0 when none is registered
	RateLimit    uint32 // records a second; 0 is no limit
	BacklogLimit uint32 // records queued for the daemon at most
	// Lost counts the records the kernel dropped since boot (or since the
	// counter was reset): over the backlog or rate limit, the hold or
	// retry queue full, no memory. Records dropped at the backlog limit
	// get no serial and leave nothing in auditd's log.
	Lost    uint32
	Backlog uint32 // records queued now
	// BacklogWaitTime is how long (in jiffies) a task waits for room in
	// the backlog; zero when the kernel's reply is too short to hold it.
	BacklogWaitTime uint32
}

// ErrAuditStatus is wrapped by ReadAuditStatus's error when the kernel's
// audit status cannot be read: not permitted (root with CAP_AUDIT_CONTROL,
// in the initial PID and user namespaces, is needed), no audit in the
// kernel, or no answer.
var ErrAuditStatus = errors.New("cannot read the kernel's audit status")

// The netlink and audit constants used here (<linux/netlink.h>,
// <linux/audit.h>).
const (
	netlinkAudit = 9    // NETLINK_AUDIT
	auditGet     = 1000 // AUDIT_GET: get status
	nlmsgError   = 2    // NLMSG_ERROR
	nlmsgDone    = 3    // NLMSG_DONE
	nlmFRequest  = 0x1  // NLM_F_REQUEST
	nlmFAck      = 0x4  // NLM_F_ACK
	nlmsgHdrLen  = 16   // struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32
	// struct audit_status is eleven u32 fields: mask, enabled, failure,
	// pid, rate_limit, backlog_limit, lost, backlog, feature_bitmap
	// (formerly version), backlog_wait_time, backlog_wait_time_actual.
	// Older kernels send a prefix of it: through backlog at least.
	auditStatusMin = 8 * 4
	auditStatusLen = 11 * 4
)

// encodeAuditGet is the netlink message asking the kernel for its audit
// status: a header alone, type AUDIT_GET, flags request and ack, sequence
// number seq, port 0 (the kernel fills in the sender's).
func encodeAuditGet(seq uint32) []byte {
	b := make([]byte, nlmsgHdrLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], nlmsgHdrLen)
	ne.PutUint16(b[4:], auditGet)
	ne.PutUint16(b[6:], nlmFRequest|nlmFAck)
	ne.PutUint32(b[8:], seq)
	ne.PutUint32(b[12:], 0)
	return b
}

// decodeAuditReplies reads the netlink messages in b (one datagram) that
// answer request seq: the AUDIT_GET reply with the status, and the ack
// (NLMSG_ERROR with error 0; the kernel may send it before the reply, which
// a kernel thread sends). A negative error in an NLMSG_ERROR is returned as
// that errno. Messages for other sequence numbers are skipped.
func decodeAuditReplies(b []byte, seq uint32) (st *AuditStatus, acked bool, err error) {
	ne := binary.NativeEndian
	for len(b) > 0 {
		if len(b) < nlmsgHdrLen {
			return st, acked, fmt.Errorf("netlink message header cut short: %d bytes", len(b))
		}
		n := ne.Uint32(b[0:])
		typ := ne.Uint16(b[4:])
		mseq := ne.Uint32(b[8:])
		if n < nlmsgHdrLen || int64(n) > int64(len(b)) {
			return st, acked, fmt.Errorf("netlink message length %d out of range (%d bytes left)", n, len(b))
		}
		payload := b[nlmsgHdrLen:n]
		if mseq == seq {
			switch typ {
			case nlmsgError:
				if len(payload) < 4 {
					return st, acked, fmt.Errorf("netlink error message cut short: %d bytes", len(payload))
				}
				if e := int32(ne.Uint32(payload)); e != 0 {
					return st, acked, syscall.Errno(-e)
				}
				acked = true
			case auditGet:
				if len(payload) < auditStatusMin {
					return st, acked, fmt.Errorf("audit status reply cut short: %d bytes, want at least %d", len(payload), auditStatusMin)
				}
				var fields [11]uint32
				for i := range fields {
					if (i+1)*4 <= len(payload) {
						fields[i] = ne.Uint32(payload[i*4:])
					}
				}
				st = &AuditStatus{Enabled: fields[1], Failure: fields[2], PID: fields[3], RateLimit: fields[4],
					BacklogLimit: fields[5], Lost: fields[6], Backlog: fields[7], BacklogWaitTime: fields[9]}
			case nlmsgDone:
				acked = true
			}
		}
		// Messages are padded to 4 bytes (NLMSG_ALIGN).
		next := (int(n) + 3) &^ 3
		if next >= len(b) {
			break
		}
		b = b[next:]
	}
	return st, acked, nil
}

// auditTimeout bounds the wait for the kernel's answer.
const auditTimeout = 2 * time.Second

// ReadAuditStatus asks the running kernel for its audit status over a
// NETLINK_AUDIT socket (AUDIT_GET), as `auditctl -s` does. The error wraps
// ErrAuditStatus and says why: EPERM (not root, no CAP_AUDIT_CONTROL, or
// a PID namespace other than the initial one), ECONNREFUSED (a user
// namespace other than the initial one: a container), EPROTONOSUPPORT (a
// kernel without audit).
func ReadAuditStatus() (AuditStatus, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, netlinkAudit)
	if err != nil {
		return AuditStatus{}, auditErr("open a NETLINK_AUDIT socket", err)
	}
	defer unix.Close(fd)
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return AuditStatus{}, auditErr("bind the NETLINK_AUDIT socket", err)
	}
	tv := unix.NsecToTimeval(auditTimeout.Nanoseconds())
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return AuditStatus{}, auditErr("set the socket's timeout", err)
	}
	seq := uint32(os.Getpid()) ^ uint32(time.Now().UnixNano())
	if err := unix.Sendto(fd, encodeAuditGet(seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return AuditStatus{}, auditErr("send AUDIT_GET", err)
	}
	buf := make([]byte, 8192)
	deadline := time.Now().Add(auditTimeout)
	for time.Now().Before(deadline) {
		n, from, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return AuditStatus{}, auditErr("read the answer to AUDIT_GET", err)
		}
		if nl, ok := from.(*unix.SockaddrNetlink); ok && nl.Pid != 0 {
			continue // not the kernel's
		}
		st, _, err := decodeAuditReplies(buf[:n], seq)
		if err != nil {
			return AuditStatus{}, auditErr("AUDIT_GET", err)
		}
		if st != nil {
			return *st, nil
		}
	}
	return AuditStatus{}, auditErr("AUDIT_GET", fmt.Errorf("no answer within %s", auditTimeout))
}

// auditErr wraps err from step with ErrAuditStatus and what it means.
func auditErr(step string, err error) error {
	why := ""
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		why = " (needs root with CAP_AUDIT_CONTROL in the initial PID namespace)"
	case errors.Is(err, unix.ECONNREFUSED):
		why = " (the kernel answers only the initial user namespace: a container?)"
	case errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT):
		why = " (the kernel has no audit support)"
	}
	return fmt.Errorf("%w: %s: %w%s", ErrAuditStatus, step, err, why)
}
