// Package manpage writes roff manual pages from a cobra command tree: one
// page per command (aa-flow.8, aa-flow-learn.8, ...), built from each
// command's usage line, help text, examples and flags, so that the manual
// says what --help says. It knows nothing of aa-flow's commands.
package manpage

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Options say how the pages are headed and what the root page adds.
type Options struct {
	// Section is the manual section, "8" for administration commands.
	Section string
	// Date is the page date in the header (YYYY-MM-DD); pages are
	// reproducible when it comes from the source, not the clock.
	Date string
	// Source names the program and its version ("aa-flow 1.2.0").
	Source string
	// Manual is the manual's title ("aa-flow manual").
	Manual string
	// Sections are appended to the root command's page (EXIT STATUS,
	// FILES, ...), their bodies written like a command's Long text.
	Sections []Section
	// SeeAlso are other pages every page refers to ("apparmor(7)").
	SeeAlso []string
}

// Section is an extra page section.
type Section struct {
	Title string
	Body  string
}

// PageName is the page's name for a command: its path with dashes
// ("aa-flow learn" is aa-flow-learn).
func PageName(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// Commands returns root and every command under it that has a page: those
// a user can run (not hidden, not cobra's help), in tree order.
func Commands(root *cobra.Command) []*cobra.Command {
	out := []*cobra.Command{root}
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.Name() == "help" {
			continue
		}
		out = append(out, Commands(c)...)
	}
	return out
}

// WriteTree writes one page per command into dir as NAME.SECTION and
// returns the files written.
func WriteTree(root *cobra.Command, dir string, o Options) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("man pages: %w", err)
	}
	var files []string
	for _, c := range Commands(root) {
		p := filepath.Join(dir, PageName(c)+"."+o.Section)
		if err := os.WriteFile(p, Page(c, o), 0o644); err != nil {
			return files, fmt.Errorf("man pages: %w", err)
		}
		files = append(files, p)
	}
	return files, nil
}

// Page renders the manual page of one command.
func Page(c *cobra.Command, o Options) []byte {
	var b bytes.Buffer
	name := PageName(c)
	fmt.Fprintf(&b, ".TH %s %s %s %s %s\n", quote(strings.ToUpper(name)), o.Section, quote(o.Date), quote(o.Source), quote(o.Manual))
	// No hyphenation, no justification: option names and paths stay whole.
	b.WriteString(".nh\n.ad l\n")
	b.WriteString(".SH NAME\n")
	fmt.Fprintf(&b, "%s \\- %s\n", escape(name), escape(c.Short))

	b.WriteString(".SH SYNOPSIS\n")
	use := strings.TrimSpace(strings.TrimPrefix(c.UseLine(), c.CommandPath()))
	if !c.Runnable() && c.HasAvailableSubCommands() {
		use = "COMMAND [flags]"
	}
	fmt.Fprintf(&b, ".B %s\n", escape(c.CommandPath()))
	if use != "" {
		b.WriteString(escape(use) + "\n")
	}

	b.WriteString(".SH DESCRIPTION\n")
	long := c.Long
	if long == "" {
		long = c.Short
	}
	b.WriteString(text(long))

	var subs []*cobra.Command
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() && s.Name() != "help" {
			subs = append(subs, s)
		}
	}
	if len(subs) > 0 {
		b.WriteString(".SH COMMANDS\n")
		for _, s := range subs {
			fmt.Fprintf(&b, ".TP\n.BR %s (%s)\n%s\n", escape(PageName(s)), o.Section, escape(s.Short))
		}
	}
	if fs := c.NonInheritedFlags(); hasVisible(fs) {
		b.WriteString(".SH OPTIONS\n")
		flags(&b, fs)
	}
	if fs := c.InheritedFlags(); hasVisible(fs) {
		b.WriteString(".SH GLOBAL OPTIONS\n")
		flags(&b, fs)
	}
	if c.Example != "" {
		b.WriteString(".SH EXAMPLES\n")
		b.WriteString(preformatted(strings.Split(strings.Trim(c.Example, "\n"), "\n")))
	}
	if !c.HasParent() {
		for _, s := range o.Sections {
			fmt.Fprintf(&b, ".SH %s\n", escape(strings.ToUpper(s.Title)))
			b.WriteString(text(s.Body))
		}
	}
	var see []string
	if c.HasParent() {
		see = append(see, PageName(c.Parent())+"("+o.Section+")")
	}
	for _, s := range subs {
		see = append(see, PageName(s)+"("+o.Section+")")
	}
	see = append(see, o.SeeAlso...)
	if len(see) > 0 {
		b.WriteString(".SH SEE ALSO\n")
		for i, s := range see {
			n, sec, _ := strings.Cut(s, "(")
			sep := ","
			if i == len(see)-1 {
				sep = ""
			}
			fmt.Fprintf(&b, ".BR %s (%s%s\n", escape(n), sec, sep)
		}
	}
	return b.Bytes()
}

func hasVisible(fs *pflag.FlagSet) bool {
	found := false
	fs.VisitAll(func(f *pflag.Flag) { found = found || !f.Hidden })
	return found
}

// flags writes one tagged paragraph per visible flag, sorted by name, with
// its value's name and its default when that is not the zero value.
func flags(b *bytes.Buffer, fs *pflag.FlagSet) {
	var all []*pflag.Flag
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Hidden {
			all = append(all, f)
		}
	})
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	for _, f := range all {
		varname, usage := pflag.UnquoteUsage(f)
		tag := "\\fB\\-\\-" + escape(f.Name) + "\\fR"
		if f.Shorthand != "" {
			tag = "\\fB\\-" + escape(f.Shorthand) + "\\fR, " + tag
		}
		if varname != "" {
			tag += " \\fI" + escape(varname) + "\\fR"
		}
		if !zeroDefault(f) {
			usage += " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(b, ".TP\n%s\n%s\n", tag, escape(usage))
	}
}

func zeroDefault(f *pflag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "0s", "[]":
		return true
	}
	return false
}

// text turns help text into roff: blank lines separate paragraphs, which
// roff fills; indented lines (commands, tables) are kept as they are.
func text(s string) string {
	var b strings.Builder
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	para := true
	for i := 0; i < len(lines); {
		l := lines[i]
		switch {
		case strings.TrimSpace(l) == "":
			para = true
			i++
		case l[0] == ' ' || l[0] == '\t':
			j := i
			for j < len(lines) && (strings.TrimSpace(lines[j]) == "" || lines[j][0] == ' ' || lines[j][0] == '\t') {
				j++
			}
			for j > i && strings.TrimSpace(lines[j-1]) == "" {
				j--
			}
			b.WriteString(preformatted(lines[i:j]))
			para, i = true, j
		default:
			if para {
				b.WriteString(".PP\n")
				para = false
			}
			b.WriteString(escape(l) + "\n")
			i++
		}
	}
	return b.String()
}

// preformatted is a block shown as written, indented, without filling.
func preformatted(lines []string) string {
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, " \t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	var b strings.Builder
	b.WriteString(".PP\n.RS 4\n.nf\n")
	for _, l := range lines {
		if len(l) >= indent && indent > 0 {
			l = l[indent:]
		}
		b.WriteString(escape(strings.TrimRight(l, " \t")) + "\n")
	}
	b.WriteString(".fi\n.RE\n")
	return b.String()
}

// escape makes text safe in roff: backslashes and hyphens escaped (so that
// options copy as ASCII), and a line starting with a control character
// kept as text.
func escape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// quote is a .TH argument: in double quotes, with the quote itself doubled
// away.
func quote(s string) string {
	return `"` + strings.ReplaceAll(escape(s), `"`, `""`) + `"`
}
