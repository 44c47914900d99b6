package audit

import (
	"strconv"
	"strings"
	"unsafe"
)

// scanBody reads the key=value pairs of an AppArmor record body s, which
// starts at byte off of the line (for error columns). Values are quoted
// ("..."), bare words or numbers, or upper-case hex; an empty value (key=)
// is empty and does not swallow the next key. The 0x1d separator auditd puts
// before its enriched upper-case fields is treated as a space. inMsg is set
// for USER_AVC records, whose body ends at the closing quote of msg='...'.
//
// With al, s may refer to a line buffer that is reused afterwards: every
// value stored goes through al.keep, and errors copy what they quote.
func scanBody(s string, off int, inMsg bool, e *Event, al *allocator) error {
	i := 0
	for i < len(s) {
		c := s[i]
		if spaceTable[c] {
			i++
			continue
		}
		if inMsg && c == '\'' {
			// Whatever follows msg='...' belongs to the sender, not AppArmor.
			return nil
		}
		k := i
		for i < len(s) && !keyStopTable[s[i]] {
			i++
		}
		if i >= len(s) || s[i] != '=' {
			return &ParseError{Column: off + k + 1, Field: strings.Clone(s[k:i]), Msg: "expected key=value"}
		}
		key := s[k:i]
		i++
		var val string
		quoted := i < len(s) && s[i] == '"'
		if quoted {
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return &ParseError{Column: off + k + 1, Field: strings.Clone(key), Msg: "unterminated quoted value"}
			}
			val = s[i+1 : i+1+j]
			i += j + 2
		} else {
			j := i
			if inMsg {
				for j < len(s) && !spaceTable[s[j]] && s[j] != '\'' {
					j++
				}
			} else {
				for j < len(s) && !spaceTable[s[j]] {
					j++
				}
			}
			val = s[i:j]
			i = j
		}
		if msg := e.set(key, val, quoted, inMsg, al); msg != "" {
			return &ParseError{Column: off + k + 1, Field: strings.Clone(key), Msg: msg}
		}
	}
	return nil
}

// set stores one key=value in its field; it returns a message when the value
// is not valid for the key. With al, key and raw may refer to a reused
// buffer: whatever is stored goes through al.keep (al.decode), numbers are
// parsed.
func (e *Event) set(key, raw string, quoted, inMsg bool, al *allocator) string {
	switch key {
	case "apparmor":
		e.Mode = internMode(raw)
		if e.Mode == "" {
			return "empty mode"
		}
	case "operation":
		e.Operation = al.keep(raw)
	case "class":
		e.Class = al.keep(raw)
	case "profile":
		e.Profile = al.decode(raw, quoted)
	case "label":
		e.Label = al.decode(raw, quoted)
	case "name":
		e.Name = al.decode(raw, quoted)
	case "name2":
		e.Name2 = al.decode(raw, quoted)
	case "target":
		e.Target, e.TargetSet = al.decode(raw, quoted), true
	case "requested_mask", "requested":
		e.RequestedMask = al.keep(raw)
	case "denied_mask", "denied":
		e.DeniedMask = al.keep(raw)
	case "mask":
		// D-Bus records carry one mask: the access asked for.
		e.RequestedMask = al.keep(raw)
	case "fsuid":
		return setInt(&e.FSUID, raw)
	case "ouid":
		return setInt(&e.OUID, raw)
	case "family":
		e.Family = al.decode(raw, quoted)
	case "sock_type":
		e.SockType = al.decode(raw, quoted)
	case "protocol":
		// 2.x records sometimes name the protocol ("tcp"); keep it as is.
		if n, err := strconv.ParseInt(raw, 10, 64); err == nil {
			e.Protocol = n
		} else {
			e.Extra = append(e.Extra, KV{al.keep(key), al.decode(raw, quoted)})
		}
	case "laddr":
		e.Laddr = al.decode(raw, quoted)
	case "lport":
		return setInt(&e.Lport, raw)
	case "faddr":
		e.Faddr = al.decode(raw, quoted)
	case "fport":
		return setInt(&e.Fport, raw)
	case "addr":
		if inMsg {
			// USER_AVC: addr= after the AppArmor fields is the sender's
			// (auditd's "addr=?"), not a unix socket address.
			e.Extra = append(e.Extra, KV{al.keep(key), al.keep(raw)})
			return ""
		}
		e.Addr = al.decode(raw, quoted)
	case "peer_addr":
		e.PeerAddr = al.decode(raw, quoted)
	case "capability":
		return setInt(&e.Capability, raw)
	case "capname":
		e.Capname = al.decode(raw, quoted)
	case "signal":
		e.Signal = al.decode(raw, quoted)
	case "peer":
		e.Peer = al.decode(raw, quoted)
	case "peer_profile":
		e.PeerProfile = al.decode(raw, quoted)
	case "peer_pid":
		return setInt(&e.PeerPID, raw)
	case "bus":
		e.Bus = al.decode(raw, quoted)
	case "path":
		e.Path = al.decode(raw, quoted)
	case "interface":
		e.Interface = al.decode(raw, quoted)
	case "member", "method":
		// dbus-broker logs method= where dbus-daemon logs member=.
		e.Member = al.decode(raw, quoted)
	case "peer_label":
		e.PeerLabel = al.decode(raw, quoted)
	case "dest":
		if isDigits(raw) {
			// Fine-grained network records: dest= is the destination port.
			e.Extra = append(e.Extra, KV{al.keep(key), al.keep(raw)})
			return ""
		}
		e.DestName = al.decode(raw, quoted)
	case "fstype":
		e.Fstype = al.decode(raw, quoted)
	case "flags":
		e.Flags = al.decode(raw, quoted)
	case "srcname":
		e.SrcName = al.decode(raw, quoted)
	case "info":
		e.Info = al.decode(raw, quoted)
	case "error":
		e.ErrorSet = true
		return setInt(&e.Error, raw)
	case "attribute":
		e.Attribute = al.decode(raw, quoted)
	case "execpath":
		e.Execpath = al.decode(raw, quoted)
	case "namespace":
		e.Namespace = al.decode(raw, quoted)
	case "pid":
		return setInt(&e.PID, raw)
	case "parent":
		return setInt(&e.Parent, raw)
	case "comm":
		e.Comm = al.decode(raw, quoted)
	case "exe":
		e.Exe = al.decode(raw, quoted)
	case "type":
		// 2.x records repeat their type in the body (type=1503).
	default:
		var v string
		if !quoted && looksEncoded(raw) {
			v = decodeHex(raw)
		} else {
			v = al.keep(raw)
		}
		e.Extra = append(e.Extra, KV{al.keep(key), v})
	}
	return ""
}

func setInt(dst *int64, val string) string {
	if n, ok := smallInt(unsafe.Slice(unsafe.StringData(val), len(val))); ok {
		*dst = n
		return ""
	}
	// Anything smallInt does not take (a sign, 19 digits) as strconv does.
	n, err := strconv.ParseInt(val, 10, 64)
	if err != nil {
		return "not a number: " + strconv.Quote(val)
	}
	*dst = n
	return ""
}

// internMode maps the kernel's mode words to the package constants, so
// events do not keep their line alive through Mode.
func internMode(v string) Mode {
	switch v {
	case "ALLOWED":
		return ModeAllowed
	case "DENIED":
		return ModeDenied
	case "AUDIT":
		return ModeAudit
	case "STATUS":
		return ModeStatus
	case "HINT":
		return ModeHint
	case "ERROR":
		return ModeError
	case "KILLED", "KILL":
		return ModeKill
	}
	return Mode(strings.Clone(v))
}

// spaceTable marks the separators between key=value pairs: blanks, line
// breaks (a record wrapped by a log viewer) and auditd's 0x1d. keyStopTable
// adds '=', where a key ends. Both are read-only.
var (
	spaceTable   = [256]bool{' ': true, 0x1d: true, '\t': true, '\n': true, '\r': true}
	keyStopTable = [256]bool{' ': true, 0x1d: true, '\t': true, '\n': true, '\r': true, '=': true}
)

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
