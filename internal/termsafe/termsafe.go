// Package termsafe makes text from logs and files safe to show on a
// terminal: a name can hold escape sequences that move the cursor, rewrite
// what was printed before, or (with bidirectional controls) show its
// characters in another order than they are written. Shown escaped, the name
// reads as what it is; the profile file keeps the exact bytes.
package termsafe

import (
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every byte or character that a terminal would act
// on written as a Go-style escape: C0 and C1 controls, DEL, bidirectional
// and zero-width format characters, and bytes that are not UTF-8 (\xNN).
// A backslash is doubled only when it would otherwise read as one of these
// escapes. Newline and tab are escaped too; see Text for messages.
func Escape(s string) string {
	return escape(s, false)
}

// Text is Escape for a message of several lines: newlines and tabs are kept,
// everything else Escape escapes is escaped.
func Text(s string) string {
	return escape(s, true)
}

// Writer returns a writer that passes everything written through Text. Each
// Write must hold whole characters (one fmt.Fprintf call does).
func Writer(w io.Writer) io.Writer { return textWriter{w} }

type textWriter struct{ w io.Writer }

func (t textWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, Text(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func escape(s string, keepLayout bool) string {
	if !needs(s, keepLayout) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case keepLayout && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\\' && escapeLike(s[i+1:]):
			b.WriteString(`\\`)
		case unsafe(r):
			switch {
			case r == '\n':
				b.WriteString(`\n`)
			case r == '\t':
				b.WriteString(`\t`)
			case r < 0x100:
				fmt.Fprintf(&b, `\x%02x`, r)
			default:
				fmt.Fprintf(&b, `\u%04x`, r)
			}
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needs reports whether s has anything escape changes.
func needs(s string, keepLayout bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			return true
		}
		if unsafe(r) && !(keepLayout && (r == '\n' || r == '\t')) {
			return true
		}
		i += n
	}
	return false
}

// escapeLike reports whether rest (what follows a backslash) would make the
// backslash read as an escape this package writes.
func escapeLike(rest string) bool {
	return strings.HasPrefix(rest, "x") || strings.HasPrefix(rest, "u") ||
		strings.HasPrefix(rest, "n") || strings.HasPrefix(rest, "t") || strings.HasPrefix(rest, `\`)
}

// unsafe reports whether a terminal acts on r or could show it as something
// else: controls, and the Unicode format characters that reorder or hide
// text.
func unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return true
	case r == 0x061c, r == 0x200b, r == 0x200c, r == 0x200d, r == 0x200e, r == 0x200f,
		r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff:
		return true
	}
	return false
}
