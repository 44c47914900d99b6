package manpage

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func tree() *cobra.Command {
	root := &cobra.Command{Use: "tool", Short: "Do things", Long: `tool does things.

  tool learn NAME   learn
  tool hide         never shown

A second paragraph
over two lines, with a \ backslash.
.starts with a dot`}
	root.PersistentFlags().String("state-dir", "/var/lib/tool", "where state goes")
	learn := &cobra.Command{Use: "learn NAME [--from FILE...]", Short: "Learn rules", Example: "  tool learn web --from -\n  tool learn web --since 2h", Run: func(*cobra.Command, []string) {}}
	learn.Flags().StringArray("from", nil, "read records from `FILE`")
	learn.Flags().BoolP("yes", "y", false, "accept everything")
	learn.Flags().Bool("secret", false, "hidden")
	_ = learn.Flags().MarkHidden("secret")
	hidden := &cobra.Command{Use: "hide", Hidden: true, Run: func(*cobra.Command, []string) {}}
	root.AddCommand(learn, hidden)
	return root
}

var opts = Options{Section: "8", Date: "2026-12-06", Source: "tool 1.0", Manual: "tool manual",
	Sections: []Section{{Title: "Exit status", Body: "  0  ok\n  1  error"}}, SeeAlso: []string{"apparmor(7)"}}

func TestPage(t *testing.T) {
	root := tree()
	names := []string{}
	for _, c := range Commands(root) {
		names = append(names, PageName(c))
	}
	assert.Equal(t, []string{"tool", "tool-learn"}, names, "hidden commands and help get no page")

	learn, _, err := root.Find([]string{"learn"})
	require.NoError(t, err)
	p := string(Page(learn, opts))
	for _, want := range []string{
		".TH \"TOOL\\-LEARN\" 8 \"2026\\-12\\-06\" \"tool 1.0\" \"tool manual\"\n",
		".SH NAME\ntool\\-learn \\- Learn rules\n",
		".SH SYNOPSIS\n.B tool learn\nNAME [\\-\\-from FILE...] [flags]\n",
		".SH OPTIONS\n.TP\n\\fB\\-\\-from\\fR \\fIFILE\\fR\nread records from FILE\n.TP\n\\fB\\-y\\fR, \\fB\\-\\-yes\\fR\naccept everything\n",
		".SH GLOBAL OPTIONS\n.TP\n\\fB\\-\\-state\\-dir\\fR \\fIstring\\fR\nwhere state goes (default /var/lib/tool)\n",
		".SH EXAMPLES\n.PP\n.RS 4\n.nf\ntool learn web \\-\\-from \\-\ntool learn web \\-\\-since 2h\n.fi\n.RE\n",
		".SH SEE ALSO\n.BR tool (8),\n.BR apparmor (7)\n",
	} {
		assert.Contains(t, p, want)
	}
	assert.NotContains(t, p, "secret")
	assert.NotContains(t, p, "EXIT STATUS", "extra sections go on the root page only")

	r := string(Page(root, opts))
	assert.Contains(t, r, ".SH DESCRIPTION\n.PP\ntool does things.\n.PP\n.RS 4\n.nf\ntool learn NAME   learn\ntool hide         never shown\n.fi\n.RE\n.PP\nA second paragraph\nover two lines, with a \\e backslash.\n\\&.starts with a dot\n")
	assert.Contains(t, r, ".SH COMMANDS\n.TP\n.BR tool\\-learn (8)\nLearn rules\n")
	assert.Contains(t, r, ".SH EXIT STATUS\n.PP\n.RS 4\n.nf\n0  ok\n1  error\n.fi\n.RE\n")
	assert.Contains(t, r, ".SH SEE ALSO\n.BR tool\\-learn (8),\n.BR apparmor (7)\n")
}

// TestPagesRender has man itself format every page: no warnings, and the
// text a reader sees.
func TestPagesRender(t *testing.T) {
	if _, err := exec.LookPath("man"); err != nil {
		t.Fatal("man is required (make deps installs man-db)")
	}
	dir := t.TempDir()
	files, err := WriteTree(tree(), dir, opts)
	require.NoError(t, err)
	require.Equal(t, []string{filepath.Join(dir, "tool.8"), filepath.Join(dir, "tool-learn.8")}, files)
	for _, f := range files {
		cmd := exec.Command("man", "--warnings", "-l", f)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "PAGER=cat")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
		text := strings.Join(strings.Fields(regexp.MustCompile(".\x08").ReplaceAllString(string(out), "")), " ")
		assert.NotContains(t, text, "warning", f)
		if strings.HasSuffix(f, "tool-learn.8") {
			assert.Contains(t, text, "tool-learn - Learn rules")
			assert.Contains(t, text, "--from FILE")
			assert.Contains(t, text, "tool learn web --since 2h")
			assert.Contains(t, text, "-y, --yes accept everything")
		} else {
			assert.Contains(t, text, "A second paragraph over two lines, with a \\ backslash. .starts with a dot")
		}
	}
}
