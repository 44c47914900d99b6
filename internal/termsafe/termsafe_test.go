package termsafe

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEscape(t *testing.T) {
	tests := []struct{ in, want, text string }{
		{"/etc/passwd", "/etc/passwd", "/etc/passwd"},
		{"/tmp/\x1b[2J\x1b[Hclean", `/tmp/\x1b[2J\x1b[Hclean`, `/tmp/\x1b[2J\x1b[Hclean`},
		{"/tmp/a\u202eexe.txt", `/tmp/a\u202eexe.txt`, `/tmp/a\u202eexe.txt`},
		{"/tmp/\u2066x\u2069", `/tmp/\u2066x\u2069`, `/tmp/\u2066x\u2069`},
		{"/tmp/\xff\xfe", `/tmp/\xff\xfe`, `/tmp/\xff\xfe`},
		{"/tmp/\u009b31m", `/tmp/\x9b31m`, `/tmp/\x9b31m`},
		{"line\nnext\tcol", `line\nnext\tcol`, "line\nnext\tcol"},
		{"/srv/caf\u00e9/\u65e5\u672c", "/srv/caf\u00e9/\u65e5\u672c", "/srv/caf\u00e9/\u65e5\u672c"},
		{`/tmp/a\x1b` + "\x07", `/tmp/a\\x1b\x07`, `/tmp/a\\x1b\x07`},
		{`C:\temp`, `C:\temp`, `C:\temp`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, Escape(tt.in), "%q", tt.in)
		assert.Equal(t, tt.text, Text(tt.in), "%q", tt.in)
	}
}

func TestWriter(t *testing.T) {
	var b strings.Builder
	fmt.Fprintf(Writer(&b), "%s: complain\n  confines: 42 (%s)\n", "web", "x\x1b]0;pwned\x07")
	assert.Equal(t, "web: complain\n  confines: 42 (x\\x1b]0;pwned\\x07)\n", b.String())
}
