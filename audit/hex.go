package audit

import "unicode/utf8"

// The kernel hex-encodes an untrusted string (audit_log_untrustedstring)
// when it holds a space, a double quote, a control character or a byte
// above 0x7e: name=2F746D702F6120622F is "/tmp/a b/". Encoded values are
// never quoted and use upper-case digits only.

// isUpperHex reports whether s is a non-empty, even-length run of
// upper-case hex digits: the only shape the kernel's encoding produces.
func isUpperHex(s string) bool {
	if len(s) == 0 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// looksEncoded decides for a key this package does not know whether a bare
// value is hex-encoded. A value with a letter A-F is; a value of decimal
// digits only is a number unless it decodes to printable text holding a
// space or a quote (the kernel encodes only strings that need it).
func looksEncoded(s string) bool {
	if !isUpperHex(s) {
		return false
	}
	special := false
	for i := 0; i < len(s); i += 2 {
		if s[i] > '9' || s[i+1] > '9' {
			return true
		}
		c := unhex(s[i])<<4 | unhex(s[i+1])
		switch {
		case c == ' ' || c == '"':
			special = true
		case c < 0x20 || c > 0x7e:
			return false
		}
	}
	return special
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c - 'A' + 10
}

// decodeHex decodes an upper-case hex string; the caller has checked it
// with isUpperHex.
func decodeHex(s string) string {
	b := make([]byte, len(s)/2)
	for i := range b {
		b[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
	}
	return string(b)
}

// decodeProctitle decodes a PROCTITLE value: hex-encoded when the command
// line holds NULs between arguments (always, for more than one argument).
// NULs become spaces and trailing NULs are dropped.
func decodeProctitle(s string) string {
	if !isUpperHex(s) {
		return s
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		c := unhex(s[2*i])<<4 | unhex(s[2*i+1])
		if c == 0 {
			c = ' '
		}
		b[i] = c
	}
	end := len(b)
	for end > 0 && b[end-1] == ' ' && s[2*end-2] == '0' && s[2*end-1] == '0' {
		end--
	}
	return string(b[:end])
}

// undecodableLabel names the first label field of e (profile, label, peer,
// peer_profile, peer_label, and target= where it is a label: every
// operation but a link's) whose value is not text: invalid UTF-8 or
// control characters. Labels are profile names from policy text; such a
// value is what the kernel printed from freed memory (LP#1689667), and
// the record says nothing trustworthy about whom it concerns.
func undecodableLabel(e *Event) string {
	fields := [...]struct{ key, v string }{
		{"profile", e.Profile}, {"label", e.Label}, {"peer", e.Peer},
		{"peer_profile", e.PeerProfile}, {"peer_label", e.PeerLabel},
	}
	for _, f := range fields {
		if !labelText(f.v) {
			return f.key
		}
	}
	if op := e.Operation; op != "link" && op != "inode_link" && !labelText(e.Target) {
		return "target"
	}
	return ""
}

// labelText reports whether s is valid UTF-8 without control characters.
func labelText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			return utf8.ValidString(s) && !hasControl(s)
		}
	}
	return true
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}
