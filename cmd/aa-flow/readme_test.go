package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readmeCommands is the README's command reference, "## Commands" up to the
// next "## " heading: the global flags first, then one "### " section per
// command (or group of commands), keyed by its heading.
type readmeCommands struct {
	global   string
	sections []readmeSection
}

type readmeSection struct{ heading, body string }

func readReadmeCommands(t *testing.T) readmeCommands {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	text := string(b)
	start := strings.Index(text, "\n## Commands\n")
	require.GreaterOrEqual(t, start, 0, "README.md has a ## Commands section")
	text = text[start+len("\n## Commands\n"):]
	if end := strings.Index(text, "\n## "); end >= 0 {
		text = text[:end]
	}
	parts := strings.Split(text, "\n### ")
	rc := readmeCommands{global: parts[0]}
	for _, p := range parts[1:] {
		heading, body, _ := strings.Cut(p, "\n")
		rc.sections = append(rc.sections, readmeSection{heading, body})
	}
	return rc
}

// section is the text of the section whose heading names aa-flow's top-level
// command top ("### `aa-flow diff NAME`, `aa-flow review NAME`" names both).
func (rc readmeCommands) section(top string) (string, bool) {
	re := regexp.MustCompile("`aa-flow " + regexp.QuoteMeta(top) + "[ `]")
	for _, s := range rc.sections {
		if re.MatchString(s.heading) {
			return s.heading + "\n" + s.body, true
		}
	}
	return "", false
}

// mentionsFlag reports whether text names the flag as --NAME (not as the
// start of a longer flag, --from in --from-start), or by its shorthand -X.
func mentionsFlag(text string, f *pflag.Flag) bool {
	if regexp.MustCompile(`--` + regexp.QuoteMeta(f.Name) + `([^a-z0-9-]|$)`).MatchString(text) {
		return f.Shorthand == "" || regexp.MustCompile("`-"+regexp.QuoteMeta(f.Shorthand)+"`").MatchString(text)
	}
	return false
}

// visibleCommands is every command aa-flow's help lists, as its path below
// the root ("seccomp verify"), cobra's own help command aside.
func visibleCommands(c *cobra.Command, prefix string) []*cobra.Command {
	var out []*cobra.Command
	for _, sub := range c.Commands() {
		if !sub.IsAvailableCommand() || sub.Name() == "help" {
			continue
		}
		out = append(out, sub)
		out = append(out, visibleCommands(sub, prefix+sub.Name()+" ")...)
	}
	return out
}

// The README's command reference names every command and subcommand the
// help lists, and every flag of each in that command's section, with the
// global flags in the global table; a command or flag added without a word
// in the README fails here.
func TestReadmeNamesEveryCommandAndFlag(t *testing.T) {
	rc := readReadmeCommands(t)
	root := newRootCmd(&globalOptions{Getenv: func(string) string { return "" }})
	root.InitDefaultHelpFlag()
	root.InitDefaultHelpCmd()

	t.Run("global", func(t *testing.T) {
		root.PersistentFlags().VisitAll(func(f *pflag.Flag) {
			assert.True(t, mentionsFlag(rc.global, f), "README's global flags table lacks --%s", f.Name)
		})
		assert.True(t, mentionsFlag(rc.global, root.Flags().Lookup("help")), "README's global flags table lacks --help")
		assert.Contains(t, rc.global, "aa-flow help", "README names the help command")
	})

	cmds := visibleCommands(root, "")
	require.NotEmpty(t, cmds)
	for _, c := range cmds {
		path := strings.TrimPrefix(c.CommandPath(), "aa-flow ")
		t.Run(path, func(t *testing.T) {
			top, sub, _ := strings.Cut(path, " ")
			text, ok := rc.section(top)
			require.True(t, ok, "README has no ### section for aa-flow %s", top)
			if sub != "" {
				assert.Contains(t, text, path, "README's %s section does not name %s", top, path)
			}
			c.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
				if f.Hidden || f.Name == "help" {
					return
				}
				assert.True(t, mentionsFlag(text, f), "README's section on aa-flow %s lacks --%s (%s)", top, f.Name, f.Usage)
			})
		})
	}
}

// exitConstants are the exit codes the commands return: the package's
// constants named exit*, read from its source. A code given to withCode or
// exitWith as a number instead of one of them fails the test: it would
// escape the table's check.
func exitConstants(t *testing.T) map[string]int {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	require.NoError(t, err)
	out := map[string]int{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		ast.Inspect(f, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok {
				if fn, ok := call.Fun.(*ast.Ident); ok && (fn.Name == "withCode" || fn.Name == "exitWith") && len(call.Args) > 0 {
					_, isConst := call.Args[0].(*ast.Ident)
					assert.True(t, isConst, "%s: %s's exit code is not one of the exit* constants", fset.Position(call.Pos()), fn.Name)
				}
				return true
			}
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "exit") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.INT {
					v, err := strconv.Atoi(lit.Value)
					require.NoError(t, err)
					out[id.Name] = v
				}
			}
			return false
		})
	}
	return out
}

// The exit-code table has a row for every exit code the commands return
// (every exit* constant of the source), and no other.
func TestReadmeExitCodes(t *testing.T) {
	consts := exitConstants(t)
	require.Contains(t, consts, "exitRefused", "the exit constants are found")
	var want []int
	for _, v := range consts {
		want = append(want, v)
	}
	sort.Ints(want)
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(b), "\n### Exit codes\n")
	require.True(t, ok, "README.md has an ### Exit codes section")
	table, _, _ = strings.Cut(table, "\n## ")
	var rows []int
	for _, m := range regexp.MustCompile(`(?m)^\| (\d+) \|`).FindAllStringSubmatch(table, -1) {
		n, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		rows = append(rows, n)
	}
	assert.Equal(t, want, rows)
}
