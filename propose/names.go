package propose

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Names are the person's own rules for the names learning proposes, kept
// in a small per-profile file (see ParseNames): names that must stay
// literal, and patterns of their own that learning uses instead of its
// inference. The zero value changes nothing.
type Names struct {
	// Literal names are never generalised.
	Literal []string
	// Patterns are AppArmor path patterns: a logged name one of them
	// matches is proposed as that pattern (GenPerson), rated as any rule.
	Patterns []string
}

// Pinned reports whether a name must stay literal.
func (n Names) Pinned(name string) bool {
	return slices.Contains(n.Literal, name)
}

// ErrNames is the error of a names file that cannot be read.
var ErrNames = errors.New("names file")

// ParseNames reads a names file; file names it in errors. One entry a
// line, '#' starts a comment:
//
//	literal /var/lib/app/state.json    # this name stays literal
//	pattern /srv/app/uploads/*.pdf     # a pattern of mine
//
// A name or pattern is absolute (or starts with a variable) and has no
// whitespace.
func ParseNames(file string, data []byte) (Names, error) {
	var n Names
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) == 0 {
			continue
		}
		if len(f) != 2 {
			return Names{}, fmt.Errorf("%w %s:%d: want \"literal NAME\" or \"pattern PATTERN\", got %q", ErrNames, file, line, strings.TrimSpace(text))
		}
		v := f[1]
		if !strings.HasPrefix(v, "/") && !strings.HasPrefix(v, "@{") || strings.ContainsRune(v, 0) {
			return Names{}, fmt.Errorf("%w %s:%d: %q is not an absolute path", ErrNames, file, line, v)
		}
		switch f[0] {
		case "literal":
			n.Literal = append(n.Literal, v)
		case "pattern":
			n.Patterns = append(n.Patterns, v)
		default:
			return Names{}, fmt.Errorf("%w %s:%d: unknown entry %q (literal or pattern)", ErrNames, file, line, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return Names{}, fmt.Errorf("%w %s: %w", ErrNames, file, err)
	}
	return n, nil
}
