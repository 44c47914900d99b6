package parser_test

import (
	"os"
	"path/filepath"
	"slices"
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
	testutil.Golden(t, filepath.Join("testdata", "insert", "svc.profile.golden"), out)
	profiletest.Compile(t, string(out))

	_, err = parser.InsertRules(src, f, []profiles.Chosen{{Profile: "nope", Text: "/x r,"}}, "")
	assert.ErrorContains(t, err, "nope")
	_, err = parser.InsertRules(src, f, []profiles.Chosen{{Profile: "svc", Text: "/x r,\n}\n/y r,"}}, "")
	assert.Error(t, err)
}

// childSrc and childCases: a profile with a child, and rules for new and
// existing children and hats.
const childSrc = "profile svc flags=(complain) {\n  /etc/svc.conf r,\n  profile /usr/bin/old flags=(complain) {\n  }\n}\n"

var childCases = []struct {
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

// A sub-profile the file lacks is created where its rules go: the child a
// cx rule runs a program in as `profile NAME { ... }` (from the empty child
// rule propose writes), else a hat (change_hat; a label does not tell a
// child from a hat, and aa-logprof writes a hat too: libapparmor's
// testcase_signal_02), in its parent's mode; the result compiles.
func TestInsertChildren(t *testing.T) {
	for _, tt := range childCases {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parser.Parse("svc", []byte(childSrc))
			require.NoError(t, err)
			out, err := parser.InsertRules([]byte(childSrc), f, tt.rules, "# learned by aa-flow 2026-12-07")
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

// InsertEach tries a rule alone where InsertRules writes it: a cx child's
// rule inside the child's `profile` block (not a hat, which is not where it
// will be compiled), a hat's rule in a hat, an empty child alone.
func TestInsertEach(t *testing.T) {
	for _, tt := range childCases {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parser.Parse("svc", []byte(childSrc))
			require.NoError(t, err)
			all, err := parser.InsertRules([]byte(childSrc), f, tt.rules, "# c")
			require.NoError(t, err)
			whole, err := parser.Parse("all", all)
			require.NoError(t, err)
			trials, err := parser.InsertEach([]byte(childSrc), f, tt.rules, "# c")
			require.NoError(t, err)
			require.Len(t, trials, len(tt.rules))
			for i, r := range tt.rules {
				g, err := parser.Parse("trial", trials[i])
				require.NoError(t, err, "%s", trials[i])
				text, _, _ := strings.Cut(r.Text, "  #")
				if name, ok := strings.CutPrefix(text, "profile "); ok {
					name, _, _ = strings.Cut(name, " ")
					c := g.Find(r.Profile + "//" + name)
					require.NotNil(t, c, "%s", trials[i])
					assert.Equal(t, "profile", c.Keyword)
					continue
				}
				p := g.Find(r.Profile)
				require.NotNil(t, p, "%s", trials[i])
				assert.Equal(t, []string{text}, added(t, f.Find(r.Profile), p), "rule %d alone:\n%s", i, trials[i])
				want := whole.Find(r.Profile)
				assert.Equal(t, want.Keyword, p.Keyword, "rule %d is tried in the block it is written in:\n%s", i, trials[i])
				assert.Equal(t, want.Flags, p.Flags)
				profiletest.Compile(t, string(trials[i]))
			}
		})
	}

	// The case where it matters, as text: the child's rule alone is in the
	// child's block.
	f, err := parser.Parse("svc", []byte(childSrc))
	require.NoError(t, err)
	trials, err := parser.InsertEach([]byte(childSrc), f, childCases[0].rules, "# c")
	require.NoError(t, err)
	assert.Contains(t, string(trials[0]), "  # c\n  profile /usr/bin/tool flags=(complain) {\n    /etc/tool.conf r,\n  }\n}\n")
	assert.NotContains(t, string(trials[0]), "rmcx")
	assert.NotContains(t, string(trials[0]), "^")
	// InsertRules given the rule alone has no child rule to go by: a hat.
	alone, err := parser.InsertRules([]byte(childSrc), f, childCases[0].rules[:1], "# c")
	require.NoError(t, err)
	assert.Contains(t, string(alone), "^/usr/bin/tool flags=(complain) {")
}

// added is what after holds of rules that before (nil: none) does not.
func added(t *testing.T, before, after *profiles.Profile) []string {
	t.Helper()
	var had []string
	if before != nil {
		had = texts(t, before)
	}
	var out []string
	for _, s := range texts(t, after) {
		if !slices.Contains(had, s) {
			out = append(out, s)
		}
	}
	return out
}
