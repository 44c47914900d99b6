// Package profiletest holds the helpers the rule packages' tests share:
// parsing a profile or one rule from text, and compiling a profile with the
// installed apparmor_parser. It lives apart from testutil because it imports
// parser, whose own tests use testutil.
package profiletest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// Parse parses src as a policy file named test.profile; the test fails on a
// parse error.
func Parse(t testing.TB, src string) *profiles.File {
	t.Helper()
	f, err := parser.Parse("test.profile", []byte(src))
	require.NoError(t, err)
	return f
}

// FirstRule parses one rule inside a profile and returns it.
func FirstRule(t testing.TB, rule string) profiles.Node {
	t.Helper()
	f := Parse(t, "profile t {\n  "+rule+"\n}\n")
	rules := f.Profiles()[0].Rules
	require.Len(t, rules, 1, rule)
	return rules[0]
}

// Compile compiles src with apparmor_parser (no kernel needed) and returns
// the binary policy; the test fails when the parser rejects it.
func Compile(t testing.TB, src string) []byte {
	t.Helper()
	r := &aaparser.Runner{}
	out, err := r.Compile(context.Background(), "test", []byte(src))
	require.NoError(t, err, "profile:\n%s", src)
	return out
}
