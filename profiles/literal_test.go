package profiles

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEscapeLiteral(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"plain", "/srv/x/a.txt", "/srv/x/a.txt"},
		{"star", "/srv/x/*", `/srv/x/\*`},
		{"double star", "/srv/**", `/srv/\*\*`},
		{"question", "/srv/a?", `/srv/a\?`},
		{"class", "/srv/x/[ab]", `/srv/x/\[ab\]`},
		{"alternation", "/srv/x/{a,b}", `/srv/x/\{a\,b\}`},
		{"comma", "/srv/x/a,", `/srv/x/a\,`},
		{"variable", "/srv/x/@{HOME}", `/srv/x/\@\{HOME\}`},
		{"at without brace", "/srv/x/a@b", "/srv/x/a@b"},
		{"quote", `/srv/x/a"b`, `/srv/x/a\"b`},
		{"backslash", `/srv/x/a\b`, `/srv/x/a\\b`},
		{"hash", "/srv/x/#c", `/srv/x/\#c`},
		{"bang caret", "/srv/!x^", `/srv/\!x\^`},
		{"space kept for quoting", "/srv/x/a b", "/srv/x/a b"},
		{"tab", "/srv/x/a\tb", `/srv/x/a\011b`},
		{"newline", "/srv/x/a\nb", `/srv/x/a\012b`},
		{"DEL", "/srv/x/a\x7f", `/srv/x/a\177`},
		{"octal not eaten by digit", "/srv/\x017", `/srv/\0017`},
		{"utf8 kept", "/srv/x/ünï", "/srv/x/ünï"},
		{"invalid utf8 as octal", "/srv/x/\xff\xfe", `/srv/x/\377\376`},
		{"truncated utf8", "/srv/x/\xc3", `/srv/x/\303`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EscapeLiteral(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			back, err := UnescapeLiteral(got)
			require.NoError(t, err)
			assert.Equal(t, tt.in, back)
		})
	}
}

func TestEscapeLiteralRefuses(t *testing.T) {
	for _, in := range []string{"", "/srv/a\x00b", "\x00"} {
		_, err := EscapeLiteral(in)
		assert.Error(t, err, "%q", in)
	}
}

func TestUnescapeLiteral(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  string
	}{
		{in: `/a\x41b`, want: "/aAb"},
		{in: `/a\101b`, want: "/aAb"},
		{in: `/a\d`, want: "/ad"},
		{in: `/a/*`, wantErr: "not literal"},
		{in: `/a/{b,c}`, wantErr: "not literal"},
		{in: `/a/@{HOME}`, wantErr: "variable"},
		{in: `/a\`, wantErr: "dangling"},
		{in: `/a\000`, wantErr: "NUL"},
		{in: `/a[b]`, wantErr: "not literal"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := UnescapeLiteral(tt.in)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// FuzzEscapeLiteral: any name either is refused (it holds a NUL) or escapes
// to a pattern with no unescaped special character, no raw control byte, and
// that unescapes back to the name.
func FuzzEscapeLiteral(f *testing.F) {
	for _, s := range []string{"/srv/x/*", "/srv/x/{a,b}", "/a b", "/a,", "/@{HOME}", `/a"b`, "/#c", "/[ab]", "/ünï", "/a\tb", "\\", "@", "@{", "\xff", "/\x017"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		esc, err := EscapeLiteral(name)
		if err != nil {
			if name != "" && !strings.Contains(name, "\x00") {
				t.Fatalf("EscapeLiteral(%q) refused a writable name: %v", name, err)
			}
			return
		}
		for i := 0; i < len(esc); i++ {
			c := esc[i]
			if c < 0x20 || c == 0x7f {
				t.Fatalf("EscapeLiteral(%q) = %q: raw control byte at %d", name, esc, i)
			}
			if c == '\\' {
				i++
				continue
			}
			if strings.IndexByte(literalSpecials, c) >= 0 || c == '@' && i+1 < len(esc) && esc[i+1] == '{' {
				t.Fatalf("EscapeLiteral(%q) = %q: unescaped %q at %d", name, esc, c, i)
			}
		}
		back, err := UnescapeLiteral(esc)
		if err != nil {
			t.Fatalf("UnescapeLiteral(EscapeLiteral(%q) = %q): %v", name, esc, err)
		}
		if back != name {
			t.Fatalf("round trip of %q via %q gave %q", name, esc, back)
		}
	})
}
