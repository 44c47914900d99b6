package profiles

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuoteToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"/srv/x", "/srv/x"},
		{"", `""`},
		{"/a b", `"/a b"`},
		{"/a\tb", "\"/a\tb\""},
		{"/a\nb", `"/a\012b"`},
		{`/a"b`, `"/a\"b"`},
		{`/a\"b`, `/a\"b`},
		{`/a\ b`, `"/a\ b"`},
		{"/{a,b}", "/{a,b}"},
		{"/a,b", `"/a,b"`},
		{`/a\,b`, `/a\,b`},
		{"/a(b)", `"/a(b)"`},
		{"#x", `"#x"`},
		{"/a#x", "/a#x"},
		{"/a->b", `"/a->b"`},
		{`/a b\`, `"/a b\134"`},
		{"@{HOME}/x", "@{HOME}/x"},
		{"<", `"<"`},     // would start an <include path>
		{"<=x", `"<=x"`}, // or the rlimit operator
		{"a<b", `"a<b"`}, // outside a path '<' ends the word
		{"/a<b", "/a<b"},
		{`\`, `"\134"`},      // a dangling backslash is closed, then written as its octal escape
		{`/a\\`, `"/a\134"`}, // so is an escaped final one (unquoted it runs on, quoted it escapes the quote)
		{`/a\\b`, `/a\\b`},   // inside a token it needs no quotes
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, QuoteToken(tt.in), "QuoteToken(%q)", tt.in)
	}
}
