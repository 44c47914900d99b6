package audit

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

// hasHexLetter reports whether s holds one of A-F. A bare value made only
// of decimal digits is far more likely a number than an encoded string.
func hasHexLetter(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'A' && s[i] <= 'F' {
			return true
		}
	}
	return false
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
