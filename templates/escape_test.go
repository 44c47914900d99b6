package templates

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// octalForm writes every byte of name as an octal escape: a spelling of the
// literal name that holds no character apparmor_parser could read as a
// glob, so it is an unambiguous reference for the escaped form. The
// leading '/' stays as is: a rule must start with one.
func octalForm(name string) string {
	var b strings.Builder
	b.WriteByte(name[0])
	for i := 1; i < len(name); i++ {
		fmt.Fprintf(&b, `\%03o`, name[i])
	}
	return b.String()
}

func ruleProfile(token string) []byte {
	return []byte("profile literal-test {\n  " + token + " r,\n}\n")
}

// TestEscapedLiteralJudgedByParser: apparmor_parser is the judge. Each
// awkward name, escaped and quoted as the renderer writes it, compiles; it
// compiles to the same policy as the name spelled byte by byte in octal and
// as the escaped name inside quotes; and, when the name holds glob
// characters, to different policy than the unescaped glob.
func TestEscapedLiteralJudgedByParser(t *testing.T) {
	r := judge()
	type result struct {
		escaped, quoted, octal, glob string
		globErr                      error
		err                          error
	}
	results := make([]result, len(awkwardNames))
	parallel(len(awkwardNames), func(i int) {
		name := awkwardNames[i]
		esc, err := profiles.EscapeLiteral(name)
		if err != nil {
			results[i].err = err
			return
		}
		res := &results[i]
		if res.escaped, res.err = policyHash(r, name, ruleProfile(profiles.QuoteToken(esc))); res.err != nil {
			return
		}
		if res.quoted, res.err = policyHash(r, name, ruleProfile(`"`+esc+`"`)); res.err != nil {
			return
		}
		if res.octal, res.err = policyHash(r, name, ruleProfile(octalForm(name))); res.err != nil {
			return
		}
		res.glob, res.globErr = policyHash(r, name, ruleProfile(profiles.QuoteToken(name)))
	})
	for i, name := range awkwardNames {
		res := results[i]
		require.NoError(t, res.err, "%q", name)
		assert.Equal(t, res.octal, res.escaped, "%q: escaped form is not the literal name", name)
		assert.Equal(t, res.escaped, res.quoted, "%q: quoted escaped form differs", name)
		if strings.ContainsAny(name, "*?[]{}") && res.globErr == nil {
			assert.NotEqual(t, res.glob, res.escaped, "%q: escaping changed nothing", name)
		}
	}
	// The judge can tell a glob from a literal at all.
	star, err := policyHash(r, "star", ruleProfile(`/srv/x/*`))
	require.NoError(t, err)
	lit, err := policyHash(r, "star", ruleProfile(`/srv/x/\*`))
	require.NoError(t, err)
	assert.NotEqual(t, star, lit)
}

// FuzzEscapeQuote: for any byte string, EscapeLiteral either refuses it
// (empty, or holding a NUL) or, once quoted by QuoteToken, gives a token
// with no unescaped glob character that reads back through the parser as
// the escaped pattern and unescapes to the name.
func FuzzEscapeQuote(f *testing.F) {
	for _, n := range awkwardNames {
		f.Add(n)
	}
	f.Add("/a\x00b")
	f.Add(`\`)
	f.Fuzz(func(t *testing.T, name string) {
		esc, err := profiles.EscapeLiteral(name)
		if err != nil {
			if name != "" && !strings.Contains(name, "\x00") {
				t.Fatalf("EscapeLiteral refused %q: %v", name, err)
			}
			return
		}
		tok := profiles.QuoteToken(esc)
		inner := tok
		if strings.HasPrefix(tok, `"`) {
			if len(tok) < 2 || !strings.HasSuffix(tok, `"`) {
				t.Fatalf("profiles.QuoteToken(%q) = %q: unbalanced quotes", esc, tok)
			}
			inner = tok[1 : len(tok)-1]
		} else {
			for i := 0; i < len(tok); i++ {
				switch c := tok[i]; {
				case c == '\\':
					i++
				case strings.IndexByte(" \t\n\r(),", c) >= 0 || strings.HasPrefix(tok[i:], "->"):
					t.Fatalf("profiles.QuoteToken(%q) = %q: %q needs quotes", esc, tok, c)
				}
			}
		}
		for i := 0; i < len(inner); i++ {
			switch c := inner[i]; {
			case c == '\\':
				i++
			case c < 0x20 && c != '\t', strings.IndexByte(`*?[]{}^"!,`, c) >= 0:
				t.Fatalf("profiles.QuoteToken(EscapeLiteral(%q)) = %q: unescaped %q", name, tok, c)
			}
		}
		back, err := profiles.UnescapeLiteral(inner)
		if err != nil || back != name {
			t.Fatalf("%q -> %q -> %q (%v)", name, tok, back, err)
		}
		if !strings.HasPrefix(name, "/") {
			return // only an absolute path can stand as a file rule
		}
		f, err := parser.Parse("fuzz", ruleProfile(tok))
		if err != nil {
			t.Fatalf("rule with %q does not parse: %v", tok, err)
		}
		ps := f.Profiles()
		if len(ps) != 1 || len(ps[0].Rules) != 1 {
			t.Fatalf("rule with %q: want one profile with one rule, got %d", tok, len(ps))
		}
		fr, ok := ps[0].Rules[0].(*profiles.FileRule)
		if !ok || fr.Path != esc || fr.Perms != "r" {
			t.Fatalf("rule with %q read back as %#v, want path %q", tok, ps[0].Rules[0], esc)
		}
	})
}

// FuzzFormat: whatever text parses, its canonical rendering either is
// refused with an error or parses again, keeps every comment and formats
// to itself.
func FuzzFormat(f *testing.F) {
	for _, s := range []string{
		"profile p /usr/bin/p flags=(complain) {\n  /etc/p r,\n  capability chown, # c\n}\n",
		"# c\n@{V} = /a \"/b c\"\n/usr/bin/x {\n  ^hat {\n    /h r,\n  }\n  signal (send) set=(term) peer=x,\n}\n",
		"profile q {\n  if $b {\n    /a r,\n  }\n  unix (send) peer=(label=a, addr=\"@x\"),\n  dbus send bus=system member={A,B},\n}\n",
		"abi <abi/3.0>,\ninclude <tunables/global>\nprofile \"a b\" {\n  \"/x y\" rw,\n  /z Px -> \"a b\",\n}\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if _, err := parser.Parse("fuzz", []byte(src)); err != nil {
			return
		}
		out, err := Format("fuzz", []byte(src))
		if err != nil {
			return // refused: the model holds something that cannot be written
		}
		again, err := Format("fuzz (formatted)", out)
		if err != nil {
			t.Fatalf("formatted text does not parse: %v\nsource:\n%s\nformatted:\n%s", err, src, out)
		}
		if string(again) != string(out) {
			t.Fatalf("not idempotent:\n%s\nsource:\n%q", lineDiff(out, again), src)
		}
		if a, b := countComments([]byte(src)), countComments(out); a != b && onlyLineComments(src) {
			t.Fatalf("comments: %d before, %d after\nsource:\n%q\nformatted:\n%s", a, b, src, out)
		}
	})
}

// onlyLineComments reports whether every '#' in src starts a line (after
// blanks) and no quote is open: there the comment count is unambiguous.
func onlyLineComments(src string) bool {
	if strings.Contains(src, `"`) {
		return false
	}
	for _, l := range strings.Split(src, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 && strings.TrimLeft(l[:i], " \t") != "" {
			return false
		}
	}
	return true
}
