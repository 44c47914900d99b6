package profiles_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/profiles"
)

func TestVarsExpand(t *testing.T) {
	vars := profiles.Vars{
		"HOME":     {"@{HOMEDIRS}/*/", "/root/"},
		"HOMEDIRS": {"/home/"},
		"PROC":     {"/proc/"},
		"one":      {"/y/"},
		"alts":     {"{/a/,/b/}"},
		"loop":     {"/x/@{loop2}"},
		"loop2":    {"@{loop}"},
		"self":     {"@{self}"},
		"empty":    {},
	}
	tests := []struct{ in, want, err string }{
		{"/etc/hosts", "/etc/hosts", ""},
		// apparmor_parser -D rule-exprs: a value's trailing '/' goes when a
		// '/' follows, several values become an alternation
		{"@{HOME}/.ssh/", "{/home/*,/root}/.ssh/", ""},
		{"@{PROC}/@{pid}", "", "undefined variable @{pid}"},
		{"@{one}/c", "/y/c", ""},
		{"@{alts}/c", "{/a/,/b/}/c", ""}, // a value ending in '}' keeps its slashes
		{"/x/@{one}", "/x/y/", ""},       // "//" collapses
		{`/x/\@\{one\}`, `/x/\@\{one\}`, ""},
		{"/a//b", "/a/b", ""},
		{"@{loop}", "", "refers to itself"},
		{"@{self}/x", "", "refers to itself"},
		{"@{empty}/x", "", "has no value"},
		{"@{HOME", "", "unclosed variable"},
	}
	for _, tt := range tests {
		got, err := vars.Expand(tt.in)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

func TestVarsDefine(t *testing.T) {
	v := profiles.Vars{}
	v.Define(&profiles.Variable{Name: "x", Values: []string{"/a"}})
	v.Define(&profiles.Variable{Name: "x", Append: true, Values: []string{"/b"}})
	assert.Equal(t, []string{"/a", "/b"}, v["x"])
	c := v.Clone()
	c.Define(&profiles.Variable{Name: "x", Values: []string{"/c"}})
	assert.Equal(t, []string{"/a", "/b"}, v["x"], "a clone does not share values")
}

func FuzzVarsExpand(f *testing.F) {
	vars := profiles.Vars{"a": {"@{b}/x", "/y"}, "b": {"{/p,/q/}"}, "c": {"@{c}"}}
	for _, s := range []string{"@{a}/z", "/x//y", "@{c}", `\@{a}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out, err := vars.Expand(s)
		if err == nil && len(out) > 1<<17 {
			t.Fatalf("expansion too large: %d bytes", len(out))
		}
	})
}
