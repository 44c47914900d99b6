package templates

import (
	"fmt"
	"strings"
)

// QuoteToken quotes/escapes a pattern (profiles.FileRule.Path, a profile
// name, a condition value ...) for output. s is a value as the model holds
// it: AppArmor escapes kept, surrounding quotes removed. The result reads
// back as the same value and compiles to the same policy.
//
// The token is quoted when it would not survive unquoted: it is empty, holds
// whitespace, a quote, a parenthesis, '=', "->", a comma outside {}
// alternations, or starts with '#'. Inside the quotes apparmor_parser reads
// escapes exactly as outside, so only a raw '"' needs a backslash. Raw
// control bytes other than a tab are written as octal escapes (the byte
// they stand for), and a dangling final backslash is doubled so it cannot
// swallow what follows (closeDangling). A NUL is written as `\000`, a
// pattern that matches no kernel path; the renderer refuses such values
// before they get here.
func QuoteToken(s string) string {
	s = closeDangling(s)
	if !needsQuotes(s) {
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
			if n := s[i]; n < 0x20 || n == 0x7f {
				fmt.Fprintf(&b, `\%03o`, n) // an escaped control byte is the byte
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

// quotePath is QuoteToken for a token in path position (a file rule's
// path, a profile's attachment): unquoted, only a token starting with '/'
// or a variable reads back as a path, so anything else is quoted.
func quotePath(s string) string {
	s = closeDangling(s)
	q := QuoteToken(s)
	if q == s && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "@{") {
		return `"` + s + `"`
	}
	return q
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

// closeDangling doubles a dangling final backslash (one that escapes
// nothing), so that it cannot swallow what the renderer writes after it.
// The result is what the value reads back as, whether quoted or not, so
// formatting it again changes nothing.
func closeDangling(s string) string {
	n := len(s) - len(strings.TrimRight(s, `\`))
	if n%2 == 1 {
		return s + `\`
	}
	return s
}

// needsQuotes reports whether s must be quoted to read back as one token
// with the same meaning.
func needsQuotes(s string) bool {
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

// checkValue refuses a value that cannot be written as a token: a NUL byte
// (QuoteToken would turn it into a pattern that means something else).
func checkValue(what, s string) error {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return fmt.Errorf("%s %q: NUL byte at offset %d cannot be written in a profile", what, s, i)
	}
	return nil
}

// checkWord refuses a bare word (a permission set, capability, flag,
// condition key, class keyword ...) holding anything but letters, digits
// and the punctuation such words use: written unquoted, anything else could
// end the rule early and smuggle in another.
func checkWord(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_-.:/=@+", c) >= 0 {
			continue
		}
		return fmt.Errorf("%s %q: character %q cannot be written in a bare word", what, s, c)
	}
	return nil
}
