package templates

import (
	"fmt"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// quotePath is QuoteToken for a token in path position (a file rule's
// path, a profile's attachment): unquoted, only a token starting with '/'
// or a variable reads back as a path, so anything else is quoted.
func quotePath(s string) string {
	s = profiles.CloseDangling(s)
	q := profiles.QuoteToken(s)
	if q == s && !strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "@{") {
		return `"` + s + `"`
	}
	return q
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
