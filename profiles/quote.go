package profiles

import "strings"

// QuoteToken quotes a pattern when the profile lexer would otherwise split
// it or read part of it as syntax. Escapes stay as they are: the parser
// reads them the same inside quotes.
func QuoteToken(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"#()=<>'`+"`", c) >= 0 {
			return QuoteAlways(s)
		}
	}
	return s
}

func QuoteAlways(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' && (i == 0 || s[i-1] != '\\') {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}
