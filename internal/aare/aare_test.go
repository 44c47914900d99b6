package aare

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		glob, path string
		want       bool
	}{
		// '*' stays inside one path component and needs a byte after '/'.
		{"/tmp/*", "/tmp/a", true},
		{"/tmp/*", "/tmp/", false},
		{"/tmp/*", "/tmp", false},
		{"/tmp/*", "/tmp/a/b", false},
		{"/tmp/*", "/tmp/.hidden", true},
		{"/tmp/*", "/tmp/a/", false},
		{"/tmp/*/", "/tmp/a/", true},
		{"/tmp/*/", "/tmp/a", false},
		{"/tmp/a*", "/tmp/a", true}, // not after '/': may be empty
		// only a whole component ('/' before, '/' or the end after) needs a
		// byte: otherwise '*' may be empty even right after '/'
		{"/tmp/*bc", "/tmp/bc", true},
		{"/tmp/*.conf", "/tmp/.conf", true},
		{"/tmp/**.so", "/tmp/.so", true},
		{"/tmp/*{a,b}", "/tmp/a", true},
		{"/tmp/***", "/tmp/", false},
		{"/tmp/***", "/tmp/a", true},
		{`/tmp/*\/`, "/tmp//", true}, // an escaped '/' is not a component end
		{"/tmp/a*b", "/tmp/ab", true},
		{"/tmp/a*b", "/tmp/a/b", false},
		// '**' crosses '/', still needs a non-'/' byte after '/'.
		{"/tmp/**", "/tmp/a/b/c", true},
		{"/tmp/**", "/tmp/a/", true},
		{"/tmp/**", "/tmp/", false},
		{"/tmp/**", "/tmp", false},
		{"/**", "/", false},
		{"/**", "/etc/shadow", true},
		{"/**/", "/etc/", true},
		{"/**/", "/etc", false},
		{"/tmp/**/x", "/tmp/x", false},
		{"/tmp/**/x", "/tmp/a/b/x", true},
		{"/tmp/a**", "/tmp/a", true},
		{"/tmp/a**", "/tmp/a/b/c", true},
		{"/tmp/**.so", "/tmp/a/b.so", true},
		// the at-least-one rule follows the pattern, not the path: after an
		// alternation the previous pattern byte is '}', so '*' may be empty.
		{"/a/{b,c/}*", "/a/c/", true},
		{"/a/{b,c/}*", "/a/c/d", true},
		// '?'
		{"/a/?", "/a/b", true},
		{"/a/?", "/a/", false},
		{"/a/?", "/a//", false},
		{"/a/?", "/a/bc", false},
		{"/a/??", "/a/bc", true},
		// classes
		{"/a/[bc]", "/a/c", true},
		{"/a/[bc]", "/a/d", false},
		{"/a/[a-c]x", "/a/bx", true},
		{"/a/[a-c]x", "/a/dx", false},
		{"/a/[^a-c]", "/a/d", true},
		{"/a/[^a-c]", "/a/b", false},
		{"/a/[^b]x", "/a//x", true}, // a negated class may match '/'
		{"/a/[!a]", "/a/!", true},   // '!' is not negation
		{"/a/[!a]", "/a/b", false},
		{`/a/[\]]`, "/a/]", true},
		{"/a/[a-]x", "/a/-x", false}, // rejected, see TestCompileErrors
		// alternations, nested and empty branches
		{"/a/{b,c}", "/a/b", true},
		{"/a/{b,c}", "/a/c", true},
		{"/a/{b,c}", "/a/d", false},
		{"/a/{b,{c,d}e}", "/a/de", true},
		{"/a/{b,{c,d}e}", "/a/d", false},
		{"/a/{,x}y", "/a/y", true},
		{"/a/{,x}y", "/a/xy", true},
		{"/usr/{,local/}bin/*", "/usr/local/bin/sh", true},
		{"/usr/{,local/}bin/*", "/usr/bin/sh", true},
		{"/usr/{,local/}bin/*", "/usr/lib/sh", false},
		// escapes
		{`/a/\*`, "/a/*", true},
		{`/a/\*`, "/a/b", false},
		{`/a/\{b,c\}`, "/a/{b,c}", true},
		{`/a/\[x\]`, "/a/[x]", true},
		{`/a/\\`, `/a/\`, true},
		{`/a/\011`, "/a/\t", true},
		{`/a/\x41`, "/a/A", true},
		{`/a/\d65`, "/a/A", true},
		{`/a/\@\{x\}`, "/a/@{x}", true},
		{`/a/b\,c`, "/a/b,c", true},
		// literal
		{"/etc/shadow", "/etc/shadow", true},
		{"/etc/shadow", "/etc/shadow-", false},
		{"/a/", "/a", false},
		{"/a", "/a/", false},
		{"/a^b", "/a^b", true},
		{"/a.b", "/axb", false},
		// apparmor_parser collapses unescaped "//" before compiling
		{"/a//b", "/a/b", true},
		{"/a//b", "/a//b", false},
		{"/a///*", "/a/x", true},
	}
	for _, tt := range tests {
		g, err := Compile(tt.glob)
		if strings.Contains(tt.glob, "[a-]") {
			require.Error(t, err)
			continue
		}
		require.NoError(t, err, tt.glob)
		assert.Equal(t, tt.want, g.Match(tt.path), "%s vs %s", tt.glob, tt.path)
	}
}

func TestCompileErrors(t *testing.T) {
	for _, bad := range []string{
		"/a/[", "/a/[]x]", "/a/[a-]", "/a/{b", "/a/}", "/a/{}", "/a/b]", `/a/\`,
		"/a/@{HOME}", "/a/[z-a]", "/a/{b}", "/a/[?]", "/a/[a*]", "/a/{b,{c}", "/a/\x00",
	} {
		_, err := Compile(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestLiteral(t *testing.T) {
	g, err := Compile(`/a/b\*c`)
	require.NoError(t, err)
	lit, ok := g.Literal()
	assert.True(t, ok)
	assert.Equal(t, "/a/b*c", lit)
	g, err = Compile(`/a/*`)
	require.NoError(t, err)
	_, ok = g.Literal()
	assert.False(t, ok)
	assert.True(t, HasGlob("/a/{b,c}"))
	assert.False(t, HasGlob(`/a/\{b\}`))
}

func TestOverlaps(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"/home/*/.ssh/**", "/home/**", true},
		{"/home/*/.ssh/**", "/etc/**", false},
		{"/**", "/etc/shadow*", true},
		{"/etc/*", "/etc/shadow*", true},
		{"/etc/*/", "/etc/shadow*", false}, // directories vs files
		{"/proc/*/mem", "/proc/**", true},
		{"/proc/[0-9]*/mem", "/proc/self/mem", false},
		{"/{usr/,}lib/**.so*", "/usr/lib/x86_64-linux-gnu/libc.so.6", true},
		{"/tmp/**", "/tmp/", false},
		{"/a/{b,c}", "/a/[^b]", true},
		{"/a/b", "/a/b", true},
		{"/a/b", "/a/c", false},
	}
	for _, tt := range tests {
		a, err := Compile(tt.a)
		require.NoError(t, err)
		b, err := Compile(tt.b)
		require.NoError(t, err)
		assert.Equal(t, tt.want, Overlaps(a, b), "%s ∩ %s", tt.a, tt.b)
		assert.Equal(t, tt.want, Overlaps(b, a), "%s ∩ %s", tt.b, tt.a)
	}
}

func TestCache(t *testing.T) {
	c := NewCache(2)
	g1, err := c.Compile("/a/*")
	require.NoError(t, err)
	g1again, err := c.Compile("/a/*")
	require.NoError(t, err)
	assert.Same(t, g1, g1again, "a cached glob is compiled once")
	_, err = c.Compile("/b/*")
	require.NoError(t, err)
	_, err = c.Compile("/c/*")
	require.NoError(t, err)
	assert.Equal(t, 2, c.Len(), "the cache is bounded")
	g1third, err := c.Compile("/a/*")
	require.NoError(t, err)
	assert.NotSame(t, g1, g1third, "the least recently used entry was evicted")
	_, err = c.Compile("/a/[")
	assert.Error(t, err)
	ok, err := c.Match("/c/*", "/c/x")
	require.NoError(t, err)
	assert.True(t, ok)
}

// A pattern made of many '**' must still match in time linear in the path:
// a backtracking matcher would take exponential time on this input.
func TestNoBlowUp(t *testing.T) {
	pattern := strings.Repeat("/**", 40) + "/x"
	g, err := Compile(pattern)
	require.NoError(t, err)
	path := strings.Repeat("/a", 2000) + "/y"
	assert.False(t, g.Match(path))
	assert.True(t, g.Match(strings.Repeat("/a", 2000)+"/x"))
}

func BenchmarkMatchLiteral(b *testing.B) {
	g, _ := Compile("/usr/lib/x86_64-linux-gnu/libc.so.6")
	for b.Loop() {
		g.Match("/usr/lib/x86_64-linux-gnu/libc.so.6")
	}
}

func BenchmarkMatchGlob(b *testing.B) {
	g, _ := Compile("/{usr/,}lib{,32,64}/**/*.so{,.[0-9]*}")
	for b.Loop() {
		g.Match("/usr/lib/x86_64-linux-gnu/libc.so.6")
	}
}

func BenchmarkMatchDoubleStarHeavy(b *testing.B) {
	g, _ := Compile(strings.Repeat("/**", 20) + "/x")
	path := strings.Repeat("/abc", 50) + "/y"
	for b.Loop() {
		g.Match(path)
	}
}

func BenchmarkCompile(b *testing.B) {
	for b.Loop() {
		_, _ = Compile("/{usr/,}lib{,32,64}/**/*.so{,.[0-9]*}")
	}
}

func BenchmarkOverlaps(b *testing.B) {
	x, _ := Compile("/home/*/.ssh/**")
	y, _ := Compile("/{usr/,}lib{,32,64}/**/*.so{,.[0-9]*}")
	for b.Loop() {
		Overlaps(x, y)
	}
}
