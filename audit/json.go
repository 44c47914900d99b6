package audit

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// MarshalJSON renders the event as one JSON object whose keys are the
// kernel's own key names (apparmor, operation, profile, name, denied_mask,
// ...) with decoded values, followed by Extra's keys, the companions' exe,
// proctitle and syscall, and type, serial, epoch (seconds, millisecond
// precision), time (RFC 3339, UTC), source and line. Absent fields are
// omitted. Bytes that are not UTF-8 (a hex-decoded file name may hold any)
// become U+FFFD, as encoding/json does.
func (e *Event) MarshalJSON() ([]byte, error) {
	w := jsonWriter{b: make([]byte, 0, 512)}
	w.b = append(w.b, '{')
	w.str("apparmor", string(e.Mode))
	w.str("operation", e.Operation)
	w.str("class", e.Class)
	w.str("profile", e.Profile)
	w.str("label", e.Label)
	w.str("name", e.Name)
	w.str("name2", e.Name2)
	if e.TargetSet && e.Target == "" {
		w.key("target")
		w.quote("")
	} else {
		w.str("target", e.Target)
	}
	w.str("requested_mask", e.RequestedMask)
	w.str("denied_mask", e.DeniedMask)
	w.num("fsuid", e.FSUID)
	w.num("ouid", e.OUID)
	w.num("pid", e.PID)
	w.num("parent", e.Parent)
	w.str("comm", e.Comm)
	w.str("family", e.Family)
	w.str("sock_type", e.SockType)
	w.num("protocol", e.Protocol)
	w.str("laddr", e.Laddr)
	w.num("lport", e.Lport)
	w.str("faddr", e.Faddr)
	w.num("fport", e.Fport)
	w.str("addr", e.Addr)
	w.str("peer_addr", e.PeerAddr)
	w.num("capability", e.Capability)
	w.str("capname", e.Capname)
	w.str("signal", e.Signal)
	w.str("peer", e.Peer)
	w.str("peer_profile", e.PeerProfile)
	w.num("peer_pid", e.PeerPID)
	w.str("bus", e.Bus)
	w.str("path", e.Path)
	w.str("interface", e.Interface)
	w.str("member", e.Member)
	w.str("peer_label", e.PeerLabel)
	w.str("dest", e.DestName)
	w.str("fstype", e.Fstype)
	w.str("flags", e.Flags)
	w.str("srcname", e.SrcName)
	w.str("info", e.Info)
	if e.HasError() {
		w.key("error")
		w.b = strconv.AppendInt(w.b, e.Error, 10)
	}
	w.str("attribute", e.Attribute)
	w.str("execpath", e.Execpath)
	w.str("namespace", e.Namespace)
	for _, kv := range e.Extra {
		k := kv.Key
		if w.has(k) || isTrailingKey(k) {
			// A record repeating a key, or using one of the names below:
			// keep the value under a name that cannot collide.
			k = "x-" + k
		}
		if !w.has(k) {
			w.key(k)
			w.quote(kv.Value)
		}
	}
	w.num("sender_pid", e.SenderPID)
	w.num("sender_uid", e.SenderUID)
	w.str("sender_subj", e.SenderLabel)
	w.str("exe", e.Exe)
	w.str("proctitle", e.Proctitle)
	w.num("syscall", e.Syscall)
	if e.Type != 0 {
		w.num("type", int64(e.Type))
	}
	if e.Serial != 0 {
		w.key("serial")
		w.b = strconv.AppendUint(w.b, e.Serial, 10)
	}
	if !e.Time.IsZero() {
		w.key("epoch")
		ms := e.Time.Nanosecond() / int(time.Millisecond)
		w.b = strconv.AppendInt(w.b, e.Time.Unix(), 10)
		w.b = append(w.b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		w.key("time")
		w.b = append(w.b, '"')
		w.b = e.Time.UTC().AppendFormat(w.b, "2006-01-02T15:04:05.000Z07:00")
		w.b = append(w.b, '"')
	}
	w.str("source", e.Source)
	if e.Line != 0 {
		w.num("line", int64(e.Line))
	}
	w.b = append(w.b, '}')
	return w.b, nil
}

// isTrailingKey reports the keys MarshalJSON writes after Extra.
func isTrailingKey(k string) bool {
	switch k {
	case "sender_pid", "sender_uid", "sender_subj", "exe", "proctitle", "syscall", "type", "serial", "epoch", "time", "source", "line":
		return true
	}
	return false
}

// jsonWriter appends the members of one object, remembering the keys.
type jsonWriter struct {
	b    []byte
	keys []string
}

func (w *jsonWriter) has(k string) bool {
	for _, x := range w.keys {
		if x == k {
			return true
		}
	}
	return false
}

func (w *jsonWriter) key(k string) {
	if len(w.keys) > 0 {
		w.b = append(w.b, ',')
	}
	w.keys = append(w.keys, k)
	w.quote(k)
	w.b = append(w.b, ':')
}

func (w *jsonWriter) str(k, v string) {
	if v != "" {
		w.key(k)
		w.quote(v)
	}
}

func (w *jsonWriter) num(k string, n int64) {
	if n != Unset {
		w.key(k)
		w.b = strconv.AppendInt(w.b, n, 10)
	}
}

const hexDigits = "0123456789abcdef"

// quote appends s as a JSON string.
func (w *jsonWriter) quote(s string) {
	b := append(w.b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c < 0x20 || c == '<' || c == '>' || c == '&' || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	w.b = append(b, '"')
}
