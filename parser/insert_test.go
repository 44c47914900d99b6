package parser_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/templates"
)

// Accepted rules go before each (sub)profile's closing brace; everything
// the person wrote stays byte for byte; missing hats are created.
func TestInsertRules(t *testing.T) {
	in := filepath.Join("testdata", "insert", "svc.profile")
	src, err := os.ReadFile(in)
	require.NoError(t, err)
	f, err := parser.Parse(in, src)
	require.NoError(t, err)
	rules := []profiles.Chosen{
		{Profile: "svc", Text: "capability net_bind_service,"},
		{Profile: "svc", Text: "/etc/hostname r,"},
		{Profile: "svc", Text: "/etc/hostname r,"}, // duplicate: written once
		{Profile: "svc//worker", Text: "owner /var/lib/svc/** rw,"},
		{Profile: "svc//newhat", Text: "/tmp/x w,"},
		{Profile: "oneline", Text: "/y r,"},
	}
	out, err := parser.InsertRules(src, f, rules, "# learned by aa-flow 2026-11-22")
	require.NoError(t, err)
	golden := filepath.Join("testdata", "insert", "svc.profile.golden")
	if testutil.Update() {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))
	profiletest.Compile(t, string(out))

	_, err = parser.InsertRules(src, f, []profiles.Chosen{{Profile: "nope", Text: "/x r,"}}, "")
	assert.ErrorContains(t, err, "nope")
	_, err = parser.InsertRules(src, f, []profiles.Chosen{{Profile: "svc", Text: "/x r,\n}\n/y r,"}}, "")
	assert.Error(t, err)
}

// A sub-profile the file lacks is created where its rules go: the child a
// cx rule runs a program in as `profile NAME { ... }` (from the empty child
// rule propose writes), else a hat (change_hat; a label does not tell a
// child from a hat, and aa-logprof writes a hat too: libapparmor's
// testcase_signal_02), in its parent's mode; the result compiles.
func TestInsertChildren(t *testing.T) {
	const src = "profile svc flags=(complain) {\n  /etc/svc.conf r,\n  profile /usr/bin/old flags=(complain) {\n  }\n}\n"
	tests := []struct {
		name  string
		rules []profiles.Chosen
	}{
		{"cx child with its rules", []profiles.Chosen{
			{Profile: "svc///usr/bin/tool", Text: "/etc/tool.conf r,"},
			{Profile: "svc", Text: "/usr/bin/tool rmcx,"},
			{Profile: "svc", Text: "profile /usr/bin/tool flags=(complain) { }"},
			{Profile: "svc///usr/bin/tool", Text: "owner /var/lib/tool/state rw,"},
		}},
		{"path sub without a child rule", []profiles.Chosen{
			{Profile: "svc", Text: "/usr/bin/tool rcx,"},
			{Profile: "svc///usr/bin/tool", Text: "/etc/tool.conf r,"},
		}},
		{"empty child", []profiles.Chosen{
			{Profile: "svc", Text: "/usr/bin/tool rmcx,"},
			{Profile: "svc", Text: "profile /usr/bin/tool flags=(complain) { }"},
		}},
		{"child there already", []profiles.Chosen{
			{Profile: "svc", Text: "/usr/bin/old rmcx,"},
			{Profile: "svc", Text: "profile /usr/bin/old flags=(complain) { }"},
			{Profile: "svc///usr/bin/old", Text: "/etc/old.conf r,"},
		}},
		{"annotated", []profiles.Chosen{ // review's diff: each line with its comment
			{Profile: "svc///usr/bin/tool", Text: "/etc/tool.conf r,  # r3, 1 record"},
			{Profile: "svc", Text: "/usr/bin/tool rmcx,  # r1, 1 record"},
			{Profile: "svc", Text: "profile /usr/bin/tool flags=(complain) { }  # r2, 2 records"},
		}},
		{"hat", []profiles.Chosen{
			{Profile: "svc//worker", Text: "/var/lib/svc/ r,"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parser.Parse("svc", []byte(src))
			require.NoError(t, err)
			out, err := parser.InsertRules([]byte(src), f, tt.rules, "# learned by aa-flow 2026-12-07")
			require.NoError(t, err)
			testutil.Golden(t, filepath.Join("testdata", "insert", "children", strings.ReplaceAll(tt.name, " ", "-")+".golden"), out)
			profiletest.Compile(t, string(out))
			// Every rule landed in the (sub)profile it names.
			g, err := parser.Parse("out", out)
			require.NoError(t, err)
			for _, r := range tt.rules {
				if strings.HasPrefix(r.Text, "profile ") {
					continue
				}
				p := g.Find(r.Profile)
				require.NotNil(t, p, r.Profile)
				text, _, _ := strings.Cut(r.Text, "  #")
				assert.Contains(t, texts(t, p), text, r.Profile)
			}
		})
	}
}

// texts are a profile's own rules as written.
func texts(t *testing.T, p *profiles.Profile) []string {
	t.Helper()
	var out []string
	for _, n := range p.Rules {
		switch n.(type) {
		case *profiles.Profile, *profiles.Comment:
			continue
		}
		s, err := templates.RenderLine(n)
		require.NoError(t, err)
		out = append(out, s)
	}
	return out
}
