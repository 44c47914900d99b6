package profiles

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// literalSpecials are the characters apparmor_parser reads as glob
// operators, alternation, negation, quoting or a rule separator inside a
// path pattern. EscapeLiteral backslash-escapes each of them; '#' is included
// because it starts a comment after whitespace.
const literalSpecials = `*?[]{}^\"!,#`

// EscapeLiteral turns a name taken from a log (a path the kernel reported)
// into a Path pattern that matches exactly that name and nothing else: every
// character AppArmor would read as a glob, a variable or a separator is
// backslash-escaped. Quoting for whitespace is the renderer's job
// (profiles.QuoteToken).
//
// The escapes were checked against apparmor_parser 3.0.8 (its expression
// tree and compiled policy): `\*` `\?` `\[` `\]` `\{` `\}` `\^` `\\` `\"`
// `\!` `\,` `\#` and `\@` each stand for the character itself, inside and
// outside quotes; "@{" is written `\@\{` so no variable is expanded (a bare
// `\@{` is not enough: the braces would still group). Control characters and
// bytes that are not UTF-8 are written as 3-digit octal escapes (`\011` is a
// tab), which the parser reads as that exact byte; valid UTF-8 is kept as is.
//
// A NUL cannot be part of a kernel path and cannot be written: it is refused
// with an error and must never be rendered.
func EscapeLiteral(name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty name cannot be written as a path")
	}
	var b strings.Builder
	b.Grow(len(name) + 8)
	for i := 0; i < len(name); {
		c := name[i]
		switch {
		case c == 0:
			return "", fmt.Errorf("name %q: NUL byte at offset %d cannot be written in a profile", name, i)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\%03o`, c)
			i++
		case c == '\\' && i == len(name)-1:
			// A final backslash is its octal escape, the form QuoteToken
			// writes it in (a final `\\` runs on into what follows), so
			// the escaped literal reads back from a profile unchanged.
			b.WriteString(`\134`)
			i++
		case strings.IndexByte(literalSpecials, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
			i++
		case c == '@' && i+1 < len(name) && name[i+1] == '{':
			b.WriteString(`\@`)
			i++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRuneInString(name[i:])
			if r == utf8.RuneError && size <= 1 {
				fmt.Fprintf(&b, `\%03o`, c)
				i++
				continue
			}
			b.WriteString(name[i : i+size])
			i += size
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), nil
}

// UnescapeLiteral is the inverse of EscapeLiteral: it returns the one name a
// pattern matches when the pattern is a literal, reading escapes the way
// apparmor_parser does (`\c` is c, `\ooo` is an octal byte, `\xHH` a hex
// byte). A pattern holding an unescaped glob operator, alternation or
// variable matches more than one name and is an error, as is a dangling
// backslash or an escape that yields a NUL.
func UnescapeLiteral(pattern string) (string, error) {
	var b strings.Builder
	b.Grow(len(pattern))
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch {
		case c == '\\':
			if i+1 >= len(pattern) {
				return "", fmt.Errorf("pattern %q: dangling backslash at the end", pattern)
			}
			i++
			v, n, ok := numericEscape(pattern[i:])
			if ok {
				if v == 0 {
					return "", fmt.Errorf("pattern %q: escape at offset %d is a NUL", pattern, i-1)
				}
				b.WriteByte(v)
				i += n - 1
				continue
			}
			b.WriteByte(pattern[i])
		case strings.IndexByte(`*?[]{}^"!,`, c) >= 0:
			return "", fmt.Errorf("pattern %q: unescaped %q at offset %d is not literal", pattern, c, i)
		case c == '@' && i+1 < len(pattern) && pattern[i+1] == '{':
			return "", fmt.Errorf("pattern %q: variable at offset %d is not literal", pattern, i)
		case c == 0:
			return "", fmt.Errorf("pattern %q: NUL byte at offset %d", pattern, i)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// numericEscape reads the body of a numeric escape (after the backslash):
// up to three octal digits, or x and up to two hex digits. It returns the
// byte, how many characters it used, and whether s starts with one.
func numericEscape(s string) (byte, int, bool) {
	if s[0] >= '0' && s[0] <= '7' {
		v, n := 0, 0
		for n < 3 && n < len(s) && s[n] >= '0' && s[n] <= '7' {
			v = v*8 + int(s[n]-'0')
			n++
		}
		if v > 0xff {
			return 0, 0, false
		}
		return byte(v), n, true
	}
	if s[0] == 'x' && len(s) > 1 && isHex(s[1]) {
		v, n := 0, 1
		for n < 3 && n < len(s) && isHex(s[n]) {
			v = v*16 + hexVal(s[n])
			n++
		}
		return byte(v), n, true
	}
	return 0, 0, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	default:
		return int(c-'A') + 10
	}
}
