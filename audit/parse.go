package audit

import (
	"bytes"
	"fmt"
	"time"
	"unsafe"
)

// Record is one parsed log line: an AppArmor Event or a Companion record
// (SYSCALL or PROCTITLE) that completes an event with the same serial.
// Exactly one of the two is non-nil.
type Record struct {
	Event     *Event
	Companion *Companion
}

// Companion is a SYSCALL (type=1300) or PROCTITLE (type=1327) record. The
// kernel emits them after the AppArmor record of the same syscall, with the
// same audit serial.
type Companion struct {
	Type      int       // 1300 (SYSCALL) or 1327 (PROCTITLE)
	Time      time.Time // from audit(SEC.MSEC:SERIAL)
	Serial    uint64
	Exe       string // exe= (SYSCALL)
	Proctitle string // proctitle= (PROCTITLE), NULs between arguments as spaces
	Syscall   int64  // syscall= (SYSCALL); Unset when absent
}

// ParseError reports a line that looks like an AppArmor record but cannot be
// parsed: where (1-based byte column) and in which field.
type ParseError struct {
	Column int    // 1-based byte offset into the line
	Field  string // the key whose value failed, "audit" for the audit(...) stamp, "" otherwise
	Msg    string
}

func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("column %d: %s", e.Column, e.Msg)
	}
	return fmt.Sprintf("column %d: %s: %s", e.Column, e.Field, e.Msg)
}

// Audit record types AppArmor uses (include/uapi/linux/audit.h).
const (
	TypeUserAVC   = 1107 // USER_AVC: D-Bus mediation from dbus-daemon/dbus-broker
	TypeSyscall   = 1300 // SYSCALL companion
	TypeProctitle = 1327 // PROCTITLE companion
	TypeAVC       = 1400 // AVC: the usual AppArmor record
	TypeAppArmor  = 1500 // APPARMOR: 2.x kernels ("REJECTING r access to ...")
	// 1501-1507: APPARMOR_AUDIT, _ALLOWED, _DENIED, _HINT, _STATUS, _ERROR, _KILL.
	typeAppArmorLast = 1507
)

// MessageDefaults supplies what a log message may lack: journald's audit
// transport stores the serial and time in _AUDIT_ID/_SOURCE_REALTIME_TIMESTAMP
// rather than in MESSAGE. Values present in the message win.
type MessageDefaults struct {
	Time   time.Time
	Serial uint64
}

// Parse parses one log line of any form (audit.log, syslog/kern.log, dmesg,
// /dev/kmsg, journalctl -k). It returns (nil, nil) for a line that is neither
// an AppArmor record nor a companion record; a *ParseError for a line that
// looks like an AppArmor record but cannot be parsed. The returned Record
// does not refer to line's memory.
func Parse(line []byte) (*Record, error) {
	return parse(line, nil, nil)
}

// ParseMessage parses the MESSAGE of a journald audit-transport entry, whose
// first word is the record type name ("AVC apparmor=...", "SYSCALL arch=...",
// "PROCTITLE proctitle=..."), filling time and serial from def when the
// message has no audit(...) stamp. Full log lines are accepted too.
func ParseMessage(msg []byte, def MessageDefaults) (*Record, error) {
	return parse(msg, &def, nil)
}

var (
	keyAppArmor = []byte("apparmor=")
	keyType     = []byte("type=")
	keyAudit    = []byte("audit(")
)

// parse parses a line; def supplies a missing stamp (journald), al
// allocates the results (nil: one allocation per record).
func parse(line []byte, def *MessageDefaults, al *allocator) (*Record, error) {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	// auditd's companion lines (type=SYSCALL, type=PROCTITLE) are a
	// large share of an audit.log: know them by their first word without
	// scanning the whole line for apparmor=.
	typ, typEnd := -1, -1
	if bytes.HasPrefix(line, keyType) {
		if sp := bytes.IndexByte(line, ' '); sp > 0 {
			typ, typEnd = findType(line[:sp])
			if typ == TypeSyscall || typ == TypeProctitle {
				return parseCompanion(line, typ, typEnd, def, al)
			}
		}
	}
	ia := bytes.Index(line, keyAppArmor)
	hdrEnd := len(line)
	if ia >= 0 {
		hdrEnd = ia
	}
	if typ < 0 || typEnd > hdrEnd {
		// The first word was not a type= (or apparmor= came first):
		// look for type= in the whole header.
		typ, typEnd = findType(line[:hdrEnd])
	}
	if typ < 0 && def != nil {
		typ, typEnd = leadingTypeWord(line)
	}
	if typ < 0 && bytes.Contains(line[:hdrEnd], keyMsgAudit[1:]) {
		// auditd's msg=audit(...) stamp comes only after its type= key,
		// at the start of the line or after node=; here type= is glued
		// to other text ("audit.log:type=AVC", grep's FILE: prefix).
		return nil, &ParseError{Column: 1, Field: "type", Msg: "msg=audit(...) without auditd's type= key before it"}
	}
	switch {
	case typ == TypeSyscall || typ == TypeProctitle:
		return parseCompanion(line, typ, typEnd, def, al)
	case typ == TypeSeccomp:
		return parseSeccomp(line, typEnd, def, al)
	case typ >= TypeAppArmor && typ <= typeAppArmorLast:
	case ia < 0:
		return nil, nil
	case typ > 0 && typ != TypeAVC && typ != TypeUserAVC:
		// Some other record that merely mentions apparmor= (an EXECVE
		// argument, a kernel command line).
		return nil, nil
	case ia+len(keyAppArmor) >= len(line) || line[ia+len(keyAppArmor)] != '"':
		// The kernel and D-Bus always quote the mode; a bare apparmor=1
		// is a kernel command line.
		return nil, nil
	}

	// The Record and its Event are one allocation.
	rec := al.event()
	e := rec.Event
	// Set the absent markers one by one: cheaper than copying a literal.
	e.Type = max(typ, 0)
	e.FSUID, e.OUID, e.Protocol, e.Lport, e.Fport = Unset, Unset, Unset, Unset, Unset
	e.Capability, e.PeerPID, e.Error, e.PID, e.Parent, e.Syscall = Unset, Unset, Unset, Unset, Unset, Unset
	e.SenderPID, e.SenderUID = Unset, Unset
	bodyStart := max(typEnd, 0)
	if ih := bytes.Index(line[:hdrEnd], keyAudit); ih >= 0 {
		t, serial, end, err := parseStamp(line, ih+len(keyAudit))
		if err != nil {
			return nil, err
		}
		e.Time, e.Serial = t, serial
		bodyStart = max(bodyStart, end)
	} else if def != nil {
		e.Time, e.Serial = def.Time, def.Serial
	} else {
		// No audit stamp (a dbus-daemon syslog line): use the syslog
		// time when it is a full ISO-8601 one.
		e.Time = isoPrefixTime(line)
	}
	inMsg := false
	if ia >= 0 {
		inMsg = ia > 0 && line[ia-1] == '\''
		if inMsg && typ == TypeUserAVC && bodyStart < ia {
			parseSender(line[bodyStart:ia-1], e, al)
		}
		bodyStart = ia
	}
	for bodyStart < len(line) && (line[bodyStart] == ' ' || line[bodyStart] == ':') {
		bodyStart++
	}
	// Parse (al == nil) copies the body once: every field not hex-encoded
	// is a substring of it. A Decoder reads the line in place and copies
	// (or finds interned) only the values it stores (allocator.keep).
	body := line[bodyStart:]
	var s string
	if al != nil {
		s = unsafe.String(unsafe.SliceData(body), len(body))
	} else {
		s = string(body)
	}
	if ia < 0 && (typ == TypeAppArmor || isOldVerb(s)) {
		return nil, oldRecordError(s, bodyStart)
	}
	if err := scanBody(s, bodyStart, inMsg, e, al); err != nil {
		return nil, err
	}
	if field := undecodableLabel(e); field != "" {
		return nil, &ParseError{Column: bodyStart + 1, Field: field, Msg: "hex value decodes to bytes no label holds"}
	}
	if e.Mode == "" {
		e.Mode = modeForType(typ)
	}
	if e.Mode == "" {
		return nil, &ParseError{Column: bodyStart + 1, Field: "apparmor", Msg: "no apparmor= mode"}
	}
	return rec, nil
}

// parseSender reads what the kernel writes in front of a user-space
// message (a USER_AVC's msg='...'): the sending process's pid=, uid=,
// auid=, ses= and, when an LSM labels it, subj=. The kernel takes such a
// message only from a process holding CAP_AUDIT_WRITE in the initial user
// namespace, and these fields are the kernel's account of that process,
// not the sender's claim (which, like exe=, is inside msg='...').
func parseSender(hdr []byte, e *Event, al *allocator) {
	hdr = bytes.TrimSuffix(bytes.TrimRight(hdr, " "), []byte("msg="))
	hdr = bytes.TrimRight(hdr, " ")
	// subj= is the last field and its value may hold a space (a label
	// and its mode: "/usr/bin/dbus-daemon (enforce)").
	if i := bytes.Index(hdr, []byte("subj=")); i >= 0 && (i == 0 || hdr[i-1] == ' ') {
		if al != nil {
			e.SenderLabel = al.keep(unsafe.String(unsafe.SliceData(hdr[i+5:]), len(hdr)-i-5))
		} else {
			e.SenderLabel = string(hdr[i+5:])
		}
		hdr = hdr[:i]
	}
	for _, f := range bytes.Fields(hdr) {
		k, v, _ := bytes.Cut(f, []byte("="))
		n, ok := smallInt(v)
		if !ok {
			continue
		}
		switch string(k) {
		case "pid":
			e.SenderPID = n
		case "uid":
			e.SenderUID = n
		}
	}
}

// isoPrefixTime parses the RFC 3339 timestamp rsyslog and journalctl -o
// short-iso put first on a line, truncated to milliseconds like audit
// stamps; zero when the line does not start with one.
func isoPrefixTime(line []byte) time.Time {
	if len(line) < 20 || line[4] != '-' || line[10] != 'T' {
		return time.Time{}
	}
	end := bytes.IndexByte(line, ' ')
	if end < 0 {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, string(line[:end]))
	if err != nil {
		return time.Time{}
	}
	return t.UTC().Truncate(time.Millisecond)
}

// findType finds the record type in a line header: type=1400, type=AVC,
// type=UNKNOWN[1503], type=APPARMOR_DENIED. It returns -1 when there is no
// type= key, 0 for a type this package does not know, and the offset just
// past the value.
func findType(hdr []byte) (typ, end int) {
	off := 0
	for {
		i := bytes.Index(hdr[off:], keyType)
		if i < 0 {
			return -1, -1
		}
		i += off
		if i == 0 || hdr[i-1] == ' ' {
			j := i + len(keyType)
			k := j
			for k < len(hdr) && hdr[k] != ' ' && hdr[k] != ':' {
				k++
			}
			return typeNumber(hdr[j:k]), k
		}
		off = i + len(keyType)
	}
}

// leadingTypeWord reads the type name that starts a journald audit message.
func leadingTypeWord(msg []byte) (typ, end int) {
	k := bytes.IndexByte(msg, ' ')
	if k < 0 {
		k = len(msg)
	}
	t := journaldType(msg[:k])
	if t == 0 {
		return -1, -1
	}
	return t, k
}

// journaldType is the type number of the word journald starts an audit
// message with: a type's name, or for a type journald has no name for
// AUDIT and the number, at least four digits (systemd writes "AUDIT%04i").
// 0 when it is neither: auditd's UNKNOWN[nnnn] and a bare number are not
// journald's forms, and a record counts only in the form its source writes.
func journaldType(w []byte) int {
	digits, ok := bytes.CutPrefix(w, []byte("AUDIT"))
	if !ok || len(digits) < 4 || digits[0] == '0' && len(digits) > 4 {
		return typeName(w)
	}
	return decimal(digits)
}

// typeNumber is the type number of a type= value in auditd's log: a
// type's name, auditd's UNKNOWN[nnnn] for a type it has no name for
// (audit_msg_type_to_name), or the number. 0 when it is none of them.
func typeNumber(v []byte) int {
	if n := typeName(v); n != 0 {
		return n
	}
	if bytes.HasPrefix(v, []byte("UNKNOWN[")) && len(v) > 9 && v[len(v)-1] == ']' {
		v = v[8 : len(v)-1]
	}
	return decimal(v)
}

// typeName is the number of a record type this package knows by name; 0
// for any other word.
func typeName(v []byte) int {
	switch string(v) {
	case "AVC":
		return TypeAVC
	case "USER_AVC":
		return TypeUserAVC
	case "SYSCALL":
		return TypeSyscall
	case "PROCTITLE":
		return TypeProctitle
	case "SECCOMP":
		return TypeSeccomp
	case "APPARMOR":
		return TypeAppArmor
	case "APPARMOR_AUDIT":
		return 1501
	case "APPARMOR_ALLOWED":
		return 1502
	case "APPARMOR_DENIED":
		return 1503
	case "APPARMOR_HINT":
		return 1504
	case "APPARMOR_STATUS":
		return 1505
	case "APPARMOR_ERROR":
		return 1506
	case "APPARMOR_KILL":
		return 1507
	}
	return 0
}

// decimal is the value of v's digits, at most 100000; 0 when v is empty or
// holds anything else.
func decimal(v []byte) int {
	n := 0
	for _, c := range v {
		if c < '0' || c > '9' || n > 100000 {
			return 0
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// modeForType is the mode a record without apparmor= has by its type.
func modeForType(typ int) Mode {
	switch typ {
	case 1501:
		return ModeAudit
	case 1502:
		return ModeAllowed
	case 1503:
		return ModeDenied
	case 1504:
		return ModeHint
	case 1505:
		return ModeStatus
	case 1506:
		return ModeError
	case 1507:
		return ModeKill
	}
	return ""
}

// parseStamp parses SEC.MSEC:SERIAL) starting at line[i]; it returns the
// offset just past the closing parenthesis.
func parseStamp(line []byte, i int) (time.Time, uint64, int, error) {
	bad := func(msg string) (time.Time, uint64, int, error) {
		return time.Time{}, 0, 0, &ParseError{Column: i + 1, Field: "audit", Msg: msg}
	}
	start := i
	sec, i, ok := digits(line, i)
	if !ok || i >= len(line) || line[i] != '.' {
		return bad("want audit(SECONDS.MILLIS:SERIAL)")
	}
	msStart := i + 1
	ms, i, ok := digits(line, msStart)
	if !ok || i >= len(line) || line[i] != ':' {
		return bad("want audit(SECONDS.MILLIS:SERIAL)")
	}
	// The kernel prints three digits; scale anything else to milliseconds.
	for n := i - msStart; n < 3; n++ {
		ms *= 10
	}
	for n := i - msStart; n > 3; n-- {
		ms /= 10
	}
	serial, i, ok := digits(line, i+1)
	if !ok || i >= len(line) || line[i] != ')' {
		return bad("want audit(SECONDS.MILLIS:SERIAL)")
	}
	if sec > 1<<40 {
		i = start
		return bad("timestamp out of range")
	}
	return time.Unix(int64(sec), int64(ms)*int64(time.Millisecond)).UTC(), serial, i + 1, nil
}

// digits reads a run of decimal digits (at most 19) from line[i].
func digits(line []byte, i int) (uint64, int, bool) {
	start := i
	var n uint64
	for i < len(line) && line[i] >= '0' && line[i] <= '9' {
		if i-start >= 19 {
			return 0, i, false
		}
		n = n*10 + uint64(line[i]-'0')
		i++
	}
	return n, i, i > start
}

// parseCompanion reads exe=/syscall= from a SYSCALL record and proctitle=
// from a PROCTITLE record. Records without an audit serial are skipped: they
// cannot be matched to an event.
func parseCompanion(line []byte, typ, typEnd int, def *MessageDefaults, al *allocator) (*Record, error) {
	rec := al.companion()
	c := rec.Companion
	c.Type, c.Syscall = typ, Unset
	body := typEnd
	if ih := bytes.Index(line[typEnd:], keyAudit); ih >= 0 {
		t, serial, end, err := parseStamp(line, typEnd+ih+len(keyAudit))
		if err != nil {
			// Not an AppArmor record: a companion we cannot place
			// (ausearch -i dates) is skipped, not malformed.
			return nil, nil
		}
		c.Time, c.Serial, body = t, serial, end
	} else if def != nil {
		c.Time, c.Serial = def.Time, def.Serial
	}
	if c.Serial == 0 {
		return nil, nil
	}
	// Only the keys this package reads are looked for; other values are
	// not inspected (companions are lenient).
	if typ == TypeSyscall {
		val, _, col := companionValue(line, body, keySyscall)
		if col > 0 {
			// ausearch -i prints the name (syscall=openat): keep Unset.
			if n, ok := smallInt(val); ok {
				c.Syscall = n
			}
		}
		val, quoted, col := companionValue(line, body, keyExe)
		if col < 0 {
			return nil, &ParseError{Column: -col, Field: "exe", Msg: "unterminated quoted value"}
		}
		if col > 0 {
			c.Exe = al.intern(val, quoted, false, decodeString)
		}
	} else {
		val, quoted, col := companionValue(line, body, keyProctitle)
		if col < 0 {
			return nil, &ParseError{Column: -col, Field: "proctitle", Msg: "unterminated quoted value"}
		}
		if col > 0 {
			c.Proctitle = al.intern(val, quoted, true, proctitleValue)
		}
	}
	return rec, nil
}

var (
	keySyscall   = []byte("syscall=")
	keyExe       = []byte("exe=")
	keyProctitle = []byte("proctitle=")
)

// companionValue finds key (with its '=') as a key in line from body on:
// at the start of a token, after a space, 0x1d or ':'. It returns the value
// (without quotes) and the key's 1-based column; 0 when the key is absent,
// minus the column when its quoted value is unterminated.
func companionValue(line []byte, body int, key []byte) (val []byte, quoted bool, col int) {
	// The search is for key without its first byte, which is checked
	// after: a SYSCALL line is full of words starting with 'e' (euid,
	// egid, exit, ses) but has one "xe=", and bytes.Index skips ahead by
	// the first byte of what it looks for.
	off := body + 1
	for off < len(line) {
		i := bytes.Index(line[off:], key[1:])
		if i < 0 {
			return nil, false, 0
		}
		k := off + i - 1
		off = k + len(key)
		if line[k] != key[0] {
			continue
		}
		if k > body {
			if p := line[k-1]; p != ' ' && p != 0x1d && p != ':' {
				continue
			}
		}
		v := line[off:]
		if len(v) > 0 && v[0] == '"' {
			j := bytes.IndexByte(v[1:], '"')
			if j < 0 {
				return nil, true, -(k + 1)
			}
			return v[1 : 1+j], true, k + 1
		}
		j := 0
		for j < len(v) && v[j] != ' ' && v[j] != 0x1d {
			j++
		}
		return v[:j], false, k + 1
	}
	return nil, false, 0
}

// smallInt parses a decimal int64 (optionally negative) without allocating.
func smallInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// proctitleValue decodes a PROCTITLE value: quoted ones are literal.
func proctitleValue(v string, quoted bool) string {
	if quoted {
		return v
	}
	return decodeProctitle(v)
}

// decodeString turns a kernel string value into its bytes: quoted values
// are literal; bare upper-case hex is decoded.
func decodeString(v string, quoted bool) string {
	if !quoted && isUpperHex(v) {
		return decodeHex(v)
	}
	return v
}
