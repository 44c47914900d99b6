package audit

import (
	"bytes"
	"strings"

	"github.com/aa-flow/aa-flow/audit/source"
)

// Reason says why a line that reads like an AppArmor (or companion) record
// was refused: it is not shown to be the kernel's.
type Reason string

const (
	// ReasonPrefix: the message does not start with the kernel's audit
	// prefix (audit: type=1400 audit(SEC.MS:SERIAL): in the kernel log,
	// type=AVC msg=audit(SEC.MS:SERIAL): in auditd's log). The trap trick
	// (a program named after a record that dies on an invalid opcode, so
	// that the kernel prints "traps: NAME[PID] trap invalid opcode ... in
	// NAME") is one.
	ReasonPrefix Reason = "prefix"
	// ReasonSyslogTag: a syslog line whose program tag is not kernel:.
	ReasonSyslogTag Reason = "syslog-tag"
	// ReasonLayout: the kernel's prefix, but not the field layout the
	// kernel writes after it (apparmor= first in an AVC record).
	ReasonLayout Reason = "layout"
	// ReasonTransport: a journal entry of a transport other than the
	// kernel's or audit's, or a /dev/kmsg record written from user space.
	ReasonTransport Reason = "transport"
	// ReasonUserMessage: a user-space audit message (USER_AVC) about
	// something other than D-Bus. The kernel relays USER_AVC from any
	// process holding CAP_AUDIT_WRITE (root in a container has it by
	// default): it is D-Bus's word, and counts only for D-Bus mediation,
	// which only the bus daemon performs.
	ReasonUserMessage Reason = "user-message"

	// reasonStamp: the kernel's prefix, but its audit(...) stamp is not
	// as the kernel writes it; the line is malformed rather than refused.
	reasonStamp Reason = "stamp"
)

// Describe says what the reason means, for a summary.
func (r Reason) Describe() string {
	switch r {
	case ReasonPrefix:
		return "the message does not start with the kernel's audit prefix"
	case ReasonSyslogTag:
		return "a syslog line from a program other than the kernel"
	case ReasonLayout:
		return "not the field layout the kernel writes"
	case ReasonTransport:
		return "not from the kernel's or the audit transport"
	case ReasonUserMessage:
		return "a user-space USER_AVC message about something other than D-Bus"
	}
	return string(r)
}

var (
	keyKernelTag = []byte("audit: ")
	keyNode      = []byte("node=")
	keyMsgAudit  = []byte(" msg=audit(")
	keyUserMsg   = []byte(" msg='")
)

// frame checks that line is framed as the kernel frames its audit records,
// for a line of the given origin; "" when it is, else why not. It checks
// the prefix and the first field of the body, not the fields themselves
// (parse does).
func frame(line []byte, o source.Origin) Reason {
	switch o {
	case source.Kernel:
		return kernelMessage(line)
	case source.Audit:
		return auditMessage(line)
	case source.Text:
		return textLine(line)
	}
	return ReasonTransport
}

// kernelMessage checks a message the kernel logged (to /dev/kmsg, journald's
// kernel transport, or after the kernel: tag in syslog):
// "audit: type=N audit(SEC.MS:SERIAL): BODY", as older kernels print it
// without "audit: ", or as 2.6 kernels did, "audit(SEC.MS:SERIAL): type=N BODY".
func kernelMessage(m []byte) Reason {
	m = bytes.TrimPrefix(m, keyKernelTag)
	if bytes.HasPrefix(m, keyType) {
		typ, i, ok := digits(m, len(keyType))
		if !ok || !bytes.HasPrefix(m[i:], []byte(" audit(")) {
			return ReasonPrefix
		}
		end, ok := stampEnd(m, i+len(" audit("))
		if !ok {
			return reasonStamp // the kernel's prefix: a malformed record
		}
		return bodyLayout(int(min(typ, 1<<20)), m[end:])
	}
	if bytes.HasPrefix(m, keyAudit) {
		end, ok := stampEnd(m, len(keyAudit))
		if !ok {
			return reasonStamp
		}
		body := bytes.TrimLeft(m[end:], " ")
		if !bytes.HasPrefix(body, keyType) {
			return ReasonPrefix
		}
		typ, i, ok := digits(body, len(keyType))
		if !ok || i >= len(body) || body[i] != ' ' {
			return ReasonPrefix
		}
		return bodyLayout(int(min(typ, 1<<20)), body[i:])
	}
	return ReasonPrefix
}

// auditLine checks a line of auditd's log: "[node=NAME ]type=TYPE
// msg=audit(SEC.MS:SERIAL): BODY".
func auditLine(l []byte) Reason {
	if bytes.HasPrefix(l, keyNode) {
		sp := bytes.IndexByte(l, ' ')
		if sp < 0 {
			return ReasonPrefix
		}
		l = l[sp+1:]
	}
	if !bytes.HasPrefix(l, keyType) {
		return ReasonPrefix
	}
	i := bytes.Index(l, keyMsgAudit)
	if i < 0 || bytes.IndexByte(l[:i], ' ') >= 0 {
		return ReasonPrefix
	}
	typ := typeNumber(l[len(keyType):i])
	end, ok := stampEnd(l, i+len(keyMsgAudit))
	if !ok {
		return reasonStamp
	}
	return bodyLayout(typ, l[end:])
}

// auditMessage checks the MESSAGE of a journald audit-transport entry:
// "TYPE BODY" (journald keeps the stamp in fields of its own), or a whole
// auditd line.
func auditMessage(m []byte) Reason {
	if bytes.HasPrefix(m, keyType) {
		return auditLine(m)
	}
	sp := bytes.IndexByte(m, ' ')
	if sp <= 0 || m[0] >= '0' && m[0] <= '9' {
		// journald writes the type by name (AVC, SYSCALL), never as a bare
		// number.
		return ReasonPrefix
	}
	typ := journaldType(m[:sp])
	if typ == 0 {
		return ReasonPrefix
	}
	return bodyLayout(typ, m[sp:])
}

// textLine checks a line of a text log (a file, stdin), whose origin only
// its form can tell: an auditd line, a dmesg line ("[ SECONDS] " and a
// kernel message), a bare kernel message, or a syslog line tagged kernel:.
func textLine(l []byte) Reason {
	switch {
	case len(l) == 0:
		return ReasonPrefix
	case bytes.HasPrefix(l, keyType) && bytes.Contains(l[:min(len(l), 48)], keyMsgAudit), bytes.HasPrefix(l, keyNode):
		return auditLine(l)
	case l[0] == '[':
		rest, ok := printkTime(l)
		if !ok {
			return ReasonPrefix
		}
		return kernelMessage(rest)
	case bytes.HasPrefix(l, keyKernelTag), bytes.HasPrefix(l, keyAudit), bytes.HasPrefix(l, keyType):
		return kernelMessage(l)
	}
	return syslogLine(l)
}

// syslogLine checks "TIME HOST TAG: MESSAGE", TIME either "Jan _2
// 15:04:05" or "2006-01-02[T ]15:04:05" (perhaps followed by a fraction
// or zone): TAG must be the kernel's, MESSAGE a kernel
// message (after the printk time, when the kernel logs it).
func syslogLine(l []byte) Reason {
	var rest []byte
	switch {
	case len(l) > 16 && l[3] == ' ' && l[6] == ' ' && l[9] == ':' && l[12] == ':':
		// "Jan _2 15:04:05", perhaps with a fraction or zone after it.
		rest = afterWord(l[15:])
	case len(l) > 20 && l[4] == '-' && l[7] == '-' && l[10] == 'T':
		rest = afterWord(l)
	case len(l) > 20 && l[4] == '-' && l[7] == '-' && l[10] == ' ':
		// "2006-01-02 15:04:05[.frac][zone]"
		rest = afterWord(l[11:])
	}
	if len(rest) == 0 {
		return ReasonPrefix
	}
	tag := rest
	if host, ok := bytes.CutSuffix(firstWord(rest), []byte(":")); !ok || !bytes.HasPrefix(host, []byte("kern.")) {
		// "HOST TAG:"; socklog writes "kern.LEVEL:" and no host.
		tag = afterWord(rest)
	}
	colon := bytes.IndexByte(tag, ':')
	if colon < 0 || bytes.IndexByte(tag[:colon], ' ') >= 0 {
		return ReasonPrefix
	}
	if name := string(tag[:colon]); name != "kernel" && !strings.HasPrefix(name, "kern.") {
		return ReasonSyslogTag
	}
	msg := tag[colon+1:]
	if len(msg) == 0 || msg[0] != ' ' {
		return ReasonPrefix
	}
	msg = msg[1:]
	if len(msg) > 0 && msg[0] == '[' {
		var ok bool
		if msg, ok = printkTime(msg); !ok {
			return ReasonPrefix
		}
	}
	return kernelMessage(msg)
}

// firstWord is b up to its first space.
func firstWord(b []byte) []byte {
	if sp := bytes.IndexByte(b, ' '); sp >= 0 {
		return b[:sp]
	}
	return b
}

// afterWord is b after its first space; nil when there is none.
func afterWord(b []byte) []byte {
	if sp := bytes.IndexByte(b, ' '); sp >= 0 {
		return b[sp+1:]
	}
	return nil
}

// printkTime skips the kernel's "[ SECONDS.MICROS] " in front of a message.
func printkTime(l []byte) ([]byte, bool) {
	i := 1
	for i < len(l) && l[i] == ' ' {
		i++
	}
	_, j, ok := digits(l, i)
	if !ok || j >= len(l) || l[j] != '.' {
		return nil, false
	}
	_, j, ok = digits(l, j+1)
	if !ok || j+1 >= len(l) || l[j] != ']' || l[j+1] != ' ' {
		return nil, false
	}
	return l[j+2:], true
}

// stampEnd checks "SEC.MS:SERIAL): " from l[i] and returns the offset after
// the colon.
func stampEnd(l []byte, i int) (int, bool) {
	_, i, ok := digits(l, i)
	if !ok || i >= len(l) || l[i] != '.' {
		return 0, false
	}
	_, i, ok = digits(l, i+1)
	if !ok || i >= len(l) || l[i] != ':' {
		return 0, false
	}
	_, i, ok = digits(l, i+1)
	if !ok || i+2 >= len(l) || l[i] != ')' || l[i+1] != ':' || l[i+2] != ' ' {
		return 0, false
	}
	return i + 2, true
}

// bodyLayout checks that the body of a record of type typ starts as the
// kernel writes it: apparmor= first in an AVC, arch= in a SYSCALL,
// proctitle= in a PROCTITLE, auid= in a SECCOMP, the sender's pid= and then msg='apparmor= in
// a USER_AVC (from D-Bus), and for 2.x APPARMOR_* records their own first
// fields or prose.
func bodyLayout(typ int, body []byte) Reason {
	body = bytes.TrimLeft(body, " ")
	first := func(keys ...string) Reason {
		for _, k := range keys {
			if bytes.HasPrefix(body, []byte(k)) {
				return ""
			}
		}
		return ReasonLayout
	}
	switch {
	case typ == TypeAVC:
		return first(`apparmor="`)
	case typ == TypeSyscall:
		return first("arch=")
	case typ == TypeProctitle:
		return first("proctitle=")
	case typ == TypeSeccomp:
		return first("auid=")
	case typ == TypeUserAVC:
		// Which operations a USER_AVC may report is checked once it is
		// parsed (userMessage).
		i := bytes.Index(body, keyUserMsg)
		if !bytes.HasPrefix(body, []byte("pid=")) || i < 0 || !bytes.HasPrefix(body[i+len(keyUserMsg):], []byte(`apparmor="`)) {
			return ReasonLayout
		}
		return ""
	case typ >= TypeAppArmor && typ <= typeAppArmorLast:
		if isOldVerb(string(body[:min(len(body), 16)])) {
			return ""
		}
		return first(`apparmor="`, "operation=", "type=", "info=")
	}
	// Another record type: parse takes none of them as AppArmor's, except
	// one that merely mentions apparmor=, which must not count.
	return ReasonLayout
}

// userMessage is why a parsed record counts not, when it is a USER_AVC
// about something other than D-Bus: "" for any other record. A USER_AVC
// is written by a user-space process (dbus-daemon, dbus-broker) and
// relayed by the kernel, which adds the sender's pid=, uid= and subj=; it
// is evidence of what the bus daemon decided, and of nothing the kernel
// mediates.
func userMessage(e *Event) Reason {
	if e.Type != TypeUserAVC || strings.HasPrefix(e.Operation, "dbus_") {
		return ""
	}
	return ReasonUserMessage
}
