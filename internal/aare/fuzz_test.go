package aare

import (
	"strings"
	"testing"
)

// FuzzCompile: any pattern compiles or fails cleanly, and a compiled glob
// answers Match and Overlaps without panicking; a glob overlaps itself
// exactly when it matches something we can find.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"/a/*", "/**", "/a/{b,{c,d}}", "/x/[^a-c]?", `/x/\*\{`, "/a//b", "{,}", "[", "/a/{b,c/}*"} {
		f.Add(s, "/a/b")
	}
	f.Fuzz(func(t *testing.T, pattern, path string) {
		if len(pattern) > 256 {
			return
		}
		g, err := Compile(pattern)
		if err != nil {
			return
		}
		m := g.Match(path)
		if lit, ok := g.Literal(); ok {
			if m != (path == lit) {
				t.Fatalf("literal %q vs %q: Match %v", pattern, path, m)
			}
		}
		if m {
			p, err := Compile(escapeForTest(path))
			if err != nil {
				return // NUL in path
			}
			if !Overlaps(g, p) || !Overlaps(p, g) {
				t.Fatalf("%q matches %q but they do not overlap", pattern, path)
			}
		}
	})
}

// escapeForTest backslash-escapes every byte AppArmor reads specially.
func escapeForTest(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if strings.IndexByte(`*?[]{}\,@/`, c) >= 0 && c != '/' {
			b.WriteByte('\\')
		}
		if c == '/' && i > 0 && s[i-1] == '/' {
			b.WriteByte('\\') // keep "//": escaped slashes do not collapse
		}
		b.WriteByte(c)
	}
	return b.String()
}
