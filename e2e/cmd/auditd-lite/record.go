// Command auditd-lite is a minimal audit daemon for aa-flow's end-to-end
// guests: it registers itself with the kernel over NETLINK_AUDIT and appends
// every record to a log file in auditd's format (type=AVC msg=audit(...): ...),
// so the tests can read AppArmor records the way a host running auditd has them.
//
// This file holds the pure part: building the AUDIT_SET request, splitting a
// datagram and formatting a record; main.go does the socket I/O.
package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
)

// Netlink and audit constants (linux/netlink.h, linux/audit.h).
const (
	nlmsgHdrLen = 16
	nlmsgError  = 2
	nlmFRequest = 0x1
	nlmFAck     = 0x4

	auditSet = 1001
	auditEOE = 1320

	statusEnabled      = 0x1
	statusPID          = 0x4
	statusRateLimit    = 0x8
	statusBacklogLimit = 0x10
)

// TypeName returns auditd's name for a record type (the ones an AppArmor host
// logs, and a few common neighbours), UNKNOWN[N] as auditd writes for types
// it does not know.
func TypeName(t uint16) string {
	switch t {
	case 1006:
		return "LOGIN"
	case 1100:
		return "USER_AUTH"
	case 1101:
		return "USER_ACCT"
	case 1105:
		return "USER_START"
	case 1106:
		return "USER_END"
	case 1107:
		return "USER_AVC"
	case 1112:
		return "USER_LOGIN"
	case 1130:
		return "SERVICE_START"
	case 1131:
		return "SERVICE_STOP"
	case 1300:
		return "SYSCALL"
	case 1302:
		return "PATH"
	case 1305:
		return "CONFIG_CHANGE"
	case 1307:
		return "CWD"
	case 1309:
		return "EXECVE"
	case 1326:
		return "SECCOMP"
	case 1327:
		return "PROCTITLE"
	case 1400:
		return "AVC"
	case 1500:
		return "APPARMOR_AUDIT"
	case 1501:
		return "APPARMOR_ALLOWED"
	case 1502:
		return "APPARMOR_DENIED"
	case 1503:
		return "APPARMOR_HINT"
	case 1504:
		return "APPARMOR_STATUS"
	case 1505:
		return "APPARMOR_ERROR"
	case 1506:
		return "APPARMOR_KILL"
	}
	return "UNKNOWN[" + strconv.Itoa(int(t)) + "]"
}

// SetRequest builds the AUDIT_SET message that makes pid the audit daemon,
// enables auditing (so SYSCALL and PROCTITLE records accompany AVCs, as on a
// host with auditd), lifts the rate limit and sets the backlog limit.
func SetRequest(pid, seq, backlog uint32) []byte {
	// struct audit_status: mask, enabled, failure, pid, rate_limit,
	// backlog_limit, lost, backlog, version, backlog_wait_time(_actual).
	const statusLen = 11 * 4
	b := make([]byte, nlmsgHdrLen+statusLen)
	le := binary.LittleEndian
	le.PutUint32(b[0:], uint32(len(b)))
	le.PutUint16(b[4:], auditSet)
	le.PutUint16(b[6:], nlmFRequest|nlmFAck)
	le.PutUint32(b[8:], seq)
	s := b[nlmsgHdrLen:]
	le.PutUint32(s[0:], statusEnabled|statusPID|statusRateLimit|statusBacklogLimit)
	le.PutUint32(s[4:], 1)    // enabled
	le.PutUint32(s[12:], pid) // pid
	le.PutUint32(s[16:], 0)   // rate_limit: none
	le.PutUint32(s[20:], backlog)
	return b
}

// Message is one netlink message received from the kernel.
type Message struct {
	Type    uint16
	Payload []byte // the record text, trailing NULs removed; nil for errors
	Errno   int32  // for NLMSG_ERROR: 0 is an ACK, otherwise -errno
}

// ParseDatagram splits one datagram from the audit socket. The kernel sends
// one audit record per datagram, and its nlmsg_len for records does not
// include the 16-byte header (kernel/audit.c), so the record's length is
// taken from the datagram, not from nlmsg_len.
func ParseDatagram(b []byte) (Message, error) {
	if len(b) < nlmsgHdrLen {
		return Message{}, fmt.Errorf("datagram of %d bytes is shorter than a netlink header", len(b))
	}
	m := Message{Type: binary.LittleEndian.Uint16(b[4:])}
	body := b[nlmsgHdrLen:]
	if m.Type == nlmsgError {
		if len(body) < 4 {
			return Message{}, fmt.Errorf("NLMSG_ERROR of %d bytes has no error code", len(b))
		}
		m.Errno = int32(binary.LittleEndian.Uint32(body))
		return m, nil
	}
	m.Payload = bytes.TrimRight(body, "\x00")
	return m, nil
}

// Format renders a record as auditd writes it to audit.log, with a trailing
// newline; ok is false for records auditd does not write (end of event).
func Format(m Message) (line []byte, ok bool) {
	if m.Type == auditEOE || m.Type < 1000 {
		return nil, false
	}
	line = make([]byte, 0, len(m.Payload)+24)
	line = append(line, "type="...)
	line = append(line, TypeName(m.Type)...)
	line = append(line, " msg="...)
	line = append(line, m.Payload...)
	line = append(line, '\n')
	return line, true
}
