package parser

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPositionsMan: in a real profile the Pos and End of nodes delimit
// exactly their text, and a profile's Close is its closing brace.
func TestPositionsMan(t *testing.T) {
	const path = "/etc/apparmor.d/usr.bin.man"
	src, err := os.ReadFile(path)
	require.NoError(t, err, "apparmor-profiles is not installed (make deps)")
	f, err := Parse(path, src)
	require.NoError(t, err)
	text := func(n profiles.Node) string {
		m := n.NodeMeta()
		return string(src[m.Pos.Offset:m.End.Offset])
	}

	inc := f.Items[1].(*profiles.Include)
	assert.Equal(t, "#include <tunables/global>", text(inc))
	assert.Equal(t, profiles.Pos{File: path, Line: 3, Col: 1, Offset: strings.Index(string(src), "#include <tunables/global>")}, inc.Pos)

	man := f.Find("/usr/bin/man")
	require.NotNil(t, man)
	assert.True(t, strings.HasPrefix(text(man), "/usr/bin/man {\n"))
	assert.True(t, strings.HasSuffix(text(man), "#include <local/usr.bin.man>\n}"))
	assert.Equal(t, byte('}'), src[man.Close.Offset])
	assert.Equal(t, man.Close.Offset+1, man.End.Offset)
	assert.Equal(t, 1, man.Close.Col)

	eqn := man.Rules[1].(*profiles.FileRule)
	assert.Equal(t, "/usr/bin/eqn rmCx -> &man_groff,", text(eqn))
	assert.Equal(t, 12, eqn.Pos.Line)
	assert.Equal(t, 3, eqn.Pos.Col)
	assert.Equal(t, 12, eqn.End.Line)
	assert.Equal(t, 3+len("/usr/bin/eqn rmCx -> &man_groff,"), eqn.End.Col)

	var sig *profiles.ClassRule
	for _, r := range man.Rules {
		if c, ok := r.(*profiles.ClassRule); ok && c.Class == "signal" {
			sig = c
			break
		}
	}
	require.NotNil(t, sig)
	assert.Equal(t, "signal peer=@{profile_name},", text(sig))

	groff := f.Find("man_groff")
	require.NotNil(t, groff)
	assert.True(t, strings.HasPrefix(text(groff), "profile man_groff {"))
}

// checkPositions asserts, for every node, that Pos and End agree with the
// text: line and column match the offset, the node's text starts and ends
// as its kind does, and nodes follow each other.
func checkPositions(t *testing.T, path string, src []byte, nodes []profiles.Node, lo, hi int) {
	t.Helper()
	prev := lo
	for _, n := range nodes {
		m := n.NodeMeta()
		require.LessOrEqual(t, prev, m.Pos.Offset, "%s: %s starts before the previous node ends", path, m.Pos)
		require.Less(t, m.Pos.Offset, m.End.Offset, "%s: empty node", m.Pos)
		require.LessOrEqual(t, m.End.Offset, hi, "%s: node ends after its parent", m.Pos)
		for _, p := range []profiles.Pos{m.Pos, m.End} {
			before := string(src[:p.Offset])
			assert.Equal(t, strings.Count(before, "\n")+1, p.Line, "%s line", p)
			assert.Equal(t, p.Offset-(strings.LastIndex(before, "\n")+1)+1, p.Col, "%s col", p)
		}
		text := string(src[m.Pos.Offset:m.End.Offset])
		switch n := n.(type) {
		case *profiles.Profile:
			assert.True(t, strings.HasSuffix(text, "}"), "%s: profile text %q", m.Pos, text)
			assert.Equal(t, m.End.Offset-1, n.Close.Offset)
			checkPositions(t, path, src, n.Rules, m.Pos.Offset, n.Close.Offset)
		case *profiles.Comment:
			assert.Equal(t, n.Text, text)
		case *profiles.Raw:
			assert.Equal(t, n.Text, text)
		case *profiles.Include:
			assert.Contains(t, text, "include")
		case *profiles.Variable:
			assert.True(t, strings.HasPrefix(text, "@{"+n.Name+"}"), "%s: %q", m.Pos, text)
		default:
			assert.True(t, strings.HasSuffix(text, ","), "%s: rule text %q", m.Pos, text)
		}
		prev = m.End.Offset
	}
}

// TestPositionsDebian checks the positions of every node of every Debian
// policy file.
func TestPositionsDebian(t *testing.T) {
	for _, path := range debianPolicyFiles(t) {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		f, err := Parse(path, src)
		require.NoError(t, err)
		checkPositions(t, path, src, f.Items, 0, len(src))
	}
}

// modelComments gathers every comment the model holds: Comments, Trailing,
// Comment nodes, and the comments inside Raw text.
func modelComments(nodes []profiles.Node) []string {
	var out []string
	for _, n := range nodes {
		m := n.NodeMeta()
		out = append(out, m.Comments...)
		if m.Trailing != "" {
			out = append(out, m.Trailing)
		}
		switch n := n.(type) {
		case *profiles.Comment:
			out = append(out, n.Text)
		case *profiles.Raw:
			for _, tok := range lex(n.Text) {
				if tok.typ == tokComment {
					out = append(out, tok.val)
				}
			}
		case *profiles.Profile:
			out = append(out, modelComments(n.Rules)...)
		}
	}
	return out
}

// TestCommentsKept: no comment of any Debian profile or simple_tests case
// is dropped.
func TestCommentsKept(t *testing.T) {
	check := func(name string, src []byte) {
		f, err := Parse(name, src)
		if err != nil {
			return // rejected input: nothing to keep
		}
		var want []string
		for _, tok := range lex(string(src)) {
			if tok.typ == tokComment {
				want = append(want, tok.val)
			}
		}
		assert.ElementsMatch(t, want, modelComments(f.Items), name)
	}
	for _, path := range debianPolicyFiles(t) {
		src, err := os.ReadFile(path)
		require.NoError(t, err)
		check(path, src)
	}
	dir := testutil.Corpus(t, "parser-simple_tests")
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !strings.HasSuffix(path, ".sd") {
			return err
		}
		src, err := os.ReadFile(path)
		if err == nil {
			check(path, src)
		}
		return err
	}))
	check("header", []byte("profile p # on the header\n  flags=(complain) { # after brace\n  /x r, # trailing\n}\n"))
}
