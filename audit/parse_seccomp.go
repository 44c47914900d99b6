package audit

import "bytes"

// TypeSeccomp is the kernel's SECCOMP record (AUDIT_SECCOMP): a seccomp
// filter logged, refused or killed a system call.
const TypeSeccomp = 1326

// parseSeccomp reads a SECCOMP record into an Event of Type TypeSeccomp:
// pid=, comm=, exe= and syscall= in their fields; subj=, arch=, code= and
// sig= in Extra (the other keys, auid, uid, gid, ses, compat and ip, are
// not kept: a learning profile logs every call, so these records come in
// floods). subj= is the task's LSM label and may hold a space ("web
// (enforce)"): its value runs to the next key. Fields after auditd's 0x1d
// separator are its own interpretations and are not read.
func parseSeccomp(line []byte, typEnd int, def *MessageDefaults, al *allocator) (*Record, error) {
	rec := al.event()
	e := rec.Event
	e.Type = TypeSeccomp
	e.Extra = make([]KV, 0, 4)
	e.FSUID, e.OUID, e.Protocol, e.Lport, e.Fport = Unset, Unset, Unset, Unset, Unset
	e.Capability, e.PeerPID, e.Error, e.PID, e.Parent, e.Syscall = Unset, Unset, Unset, Unset, Unset, Unset
	body := max(typEnd, 0)
	if ih := bytes.Index(line[body:], keyAudit); ih >= 0 {
		t, serial, end, err := parseStamp(line, body+ih+len(keyAudit))
		if err != nil {
			return nil, err
		}
		e.Time, e.Serial, body = t, serial, end
	} else if def != nil {
		e.Time, e.Serial = def.Time, def.Serial
	}
	if i := bytes.IndexByte(line[body:], 0x1d); i >= 0 {
		line = line[:body+i]
	}
	rest := line[body:]
	for len(rest) > 0 {
		rest = bytes.TrimLeft(rest, " :")
		eq := bytes.IndexByte(rest, '=')
		if eq <= 0 {
			break
		}
		key := rest[:eq]
		rest = rest[eq+1:]
		var val []byte
		quoted := len(rest) > 0 && rest[0] == '"'
		switch {
		case quoted:
			end := bytes.IndexByte(rest[1:], '"')
			if end < 0 {
				return nil, &ParseError{Column: len(line) - len(rest) + 1, Field: string(key), Msg: "unterminated quoted value"}
			}
			val, rest = rest[1:1+end], rest[2+end:]
		case string(key) == "subj":
			// To the next " pid=" (the key the kernel writes after it).
			end := bytes.Index(rest, []byte(" pid="))
			if end < 0 {
				end = bytes.IndexByte(rest, ' ')
			}
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		default:
			end := bytes.IndexByte(rest, ' ')
			if end < 0 {
				end = len(rest)
			}
			val, rest = rest[:end], rest[end:]
		}
		switch string(key) {
		case "pid":
			if n, ok := smallInt(val); ok {
				e.PID = n
			}
		case "syscall":
			if n, ok := smallInt(val); ok {
				e.Syscall = n
			}
		case "comm":
			e.Comm = al.intern(val, quoted, false, decodeString)
		case "exe":
			e.Exe = al.intern(val, quoted, false, decodeString)
		case "subj", "arch", "code", "sig":
			// The key is a constant: the line's memory is not kept.
			e.Extra = append(e.Extra, KV{Key: seccompKeys[string(key)], Value: al.intern(val, quoted, false, decodeString)})
		}
	}
	if e.Syscall == Unset {
		return nil, &ParseError{Column: body + 1, Field: "syscall", Msg: "a SECCOMP record without syscall="}
	}
	return rec, nil
}

// seccompKeys are the keys parseSeccomp keeps, as constants.
var seccompKeys = map[string]string{"subj": "subj", "arch": "arch", "code": "code", "sig": "sig"}
