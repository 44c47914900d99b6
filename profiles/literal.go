package profiles

import (
	"fmt"
	"strings"
)

// EscapeLiteral turns a name taken from a log (a path the kernel reported)
// into a Path pattern that matches exactly that name and nothing else: every
// character AppArmor would read as a glob, a variable or a separator is
// backslash-escaped. Quoting for whitespace is the renderer's job.
//
// A name that cannot be written safely (a NUL, a control character, a
// newline) is refused with an error; it must never be rendered.
func EscapeLiteral(name string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c < 0x20 || c == 0x7f:
			return "", fmt.Errorf("name %q: control character 0x%02x cannot be written safely in a profile", name, c)
		case strings.IndexByte(`*?[]{}^\"!,#`, c) >= 0:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '@' && i+1 < len(name) && name[i+1] == '{':
			b.WriteString(`\@`)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
