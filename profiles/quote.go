package profiles

import (
	"fmt"
	"strings"
)

// QuoteToken quotes/escapes a pattern (FileRule.Path, a profile
// name, a condition value ...) for output. s is a value as the model holds
// it: AppArmor escapes kept, surrounding quotes removed. The result reads
// back as a value of the same meaning and compiles to the same policy.
//
// The token is quoted when it would not survive unquoted: it is empty, holds
// whitespace, a quote, a parenthesis, '=', "->", a comma outside {}
// alternations, or starts with '#'. Inside the quotes apparmor_parser reads
// escapes exactly as outside, so only a raw '"' needs a backslash. Raw
// control bytes other than a tab are written as octal escapes (the byte
// they stand for), a dangling final backslash is doubled so it cannot
// swallow what follows (CloseDangling), and a final escaped backslash is
// quoted and written `\134` (see NeedsQuotes). A NUL is written as `\000`, a
// pattern that matches no kernel path; the renderer refuses such values
// before they get here.
func QuoteToken(s string) string {
	s = CloseDangling(s)
	if !NeedsQuotes(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			i++
			if n := s[i]; n < 0x20 || n == 0x7f || n == '\\' && i == len(s)-1 {
				// An escaped control byte is the byte. A final escaped
				// backslash is its octal escape too: written "\\" before
				// the closing quote, apparmor_parser's lexer may read
				// the quote as escaped and run on to the next one.
				fmt.Fprintf(&b, `\%03o`, n)
			} else {
				b.WriteByte('\\')
				b.WriteByte(n)
			}
		default:
			writeQuotedByte(&b, c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// writeQuotedByte writes one byte inside quotes: a raw quote escaped, a raw
// control byte as its octal escape.
func writeQuotedByte(b *strings.Builder, c byte) {
	switch {
	case c == '"':
		b.WriteString(`\"`)
	case c == '\t':
		b.WriteByte(c)
	case c < 0x20 || c == 0x7f:
		fmt.Fprintf(b, `\%03o`, c)
	default:
		b.WriteByte(c)
	}
}

// CloseDangling doubles a dangling final backslash (one that escapes
// nothing), so that it cannot swallow what the renderer writes after it.
// The result is what the value reads back as, whether quoted or not, so
// formatting it again changes nothing.
func CloseDangling(s string) string {
	n := len(s) - len(strings.TrimRight(s, `\`))
	if n%2 == 1 {
		return s + `\`
	}
	return s
}

// NeedsQuotes reports whether s must be quoted to read back as one token
// with the same meaning.
func NeedsQuotes(s string) bool {
	if s == "" || s[0] == '#' {
		return true
	}
	if s[0] != '/' && s[0] != '@' && strings.IndexByte(s, '<') >= 0 {
		// Outside a path, '<' ends a word and starts an <include
		// path> (or the rlimit "<=").
		return true
	}
	depth := 0 // {} alternation depth
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+1 == len(s) {
				return true
			}
			i++
			if s[i] == '\\' && i+1 == len(s) {
				// Unquoted, apparmor_parser reads a final "\\" and the
				// blank after it as one escape each: the token would run
				// on into the permissions. Quoted, it is written \134.
				return true
			}
			if n := s[i]; n < 0x20 || n == 0x7f || n == ' ' || n >= '0' && n <= '7' || n == 'x' {
				// A numeric escape is quoted too: a raw control byte
				// becomes one, and the text must not change when
				// formatted again.
				return true
			}
		case c <= ' ' || c == 0x7f || c == '"' || c == '(' || c == ')' || c == '=':
			return true
		case c == '{':
			depth++
		case c == '}':
			if depth == 0 {
				return true // an unbalanced brace would read as a block's end
			}
			depth--
		case c == ',' && depth == 0:
			return true
		case c == '-' && i+1 < len(s) && s[i+1] == '>':
			return true // read as the arrow of a transition
		}
	}
	return depth > 0
}
