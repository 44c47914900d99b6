// Package templates renders aa-flow's profile model as AppArmor policy text:
// the canonical layout of a policy file and one embedded text/template per
// rule kind, with the quoting and escaping every template relies on.
//
// The canonical layout keeps the preamble (abi, includes, variables,
// aliases, comments) in source order, so variables stay before their use,
// and writes each profile with a 2-space indent and its rules grouped by
// kind in the order AppArmor's tools use: includes, rlimits, capabilities,
// network, signal/ptrace/unix/dbus/mount/pivot_root/..., file and link rules,
// change_profile, then child profiles and hats. Grouping happens between
// "barriers": a standalone comment or a rule kept verbatim (*profiles.Raw,
// such as an if block) stays where it was, and rules never move across it,
// so conditionals and raw blocks keep their relative order. Comments stay
// on their rule. Reordering rules inside a profile does not change the
// compiled policy.
//
// Names that come from logs are data: every value goes through profiles.QuoteToken,
// every bare word (permissions, capability names, flags, keys) is checked
// against the characters such words use, and a node that cannot be written
// safely is refused with an error, never rendered.
package templates

import (
	"bytes"
	"embed"
	"fmt"
	"slices"
	"sort"
	"strings"
	"text/template"

	"github.com/aa-flow/aa-flow/profiles"
)

//go:embed profile/*.tmpl
var profileFS embed.FS

// profileTemplates holds the parsed layout and rule templates. It is built
// once from embedded files and never modified.
var profileTemplates = template.Must(template.New("profile").Funcs(template.FuncMap{
	"q":         profiles.QuoteToken,
	"angle":     anglePath,
	"permword":  permWord,
	"qpath":     quotePath,
	"qarg":      quoteArg,
	"quals":     qualifiers,
	"conds":     conds,
	"listConds": listConds,
	"access":    access,
	"peer":      peer,
	"join":      strings.Join,
}).ParseFS(profileFS, "profile/*.tmpl"))

// indentUnit is one level of indentation.
const indentUnit = "  "

// Render writes the canonical text of a policy file.
func Render(f *profiles.File) ([]byte, error) {
	type block struct {
		Blank bool
		Text  string
	}
	var blocks []block
	var prev profiles.Node
	for i, n := range f.Items {
		text, err := RenderNode(n, 0)
		if err != nil {
			return nil, fmt.Errorf("render %s: item %d: %w", f.Path, i+1, err)
		}
		blocks = append(blocks, block{Blank: prev != nil && blankBetween(prev, n), Text: text})
		prev = n
	}
	var b bytes.Buffer
	if err := profileTemplates.ExecuteTemplate(&b, "layout", blocks); err != nil {
		return nil, fmt.Errorf("render %s: %w", f.Path, err)
	}
	return b.Bytes(), nil
}

// blankBetween decides whether a blank line separates two top-level items:
// always around a profile, always after a standalone comment (else it
// would attach to the next node when read back), and wherever the source
// had one.
func blankBetween(prev, n profiles.Node) bool {
	switch {
	case prev.Kind() == profiles.KindProfile || n.Kind() == profiles.KindProfile:
		return true
	case prev.Kind() == profiles.KindComment:
		return n.Kind() != profiles.KindComment || sourceBlank(prev, n)
	}
	return sourceBlank(prev, n)
}

// sourceBlank reports whether the source had a blank line between two
// nodes, judged from their positions; nodes built by hand have none.
func sourceBlank(prev, n profiles.Node) bool {
	pm, nm := prev.NodeMeta(), n.NodeMeta()
	if pm.End.Line == 0 || nm.Pos.Line == 0 {
		return false
	}
	first := nm.Pos.Line - len(nm.Comments)
	return first > pm.End.Line+1
}

// RenderNode renders one node (rule, include, child profile ...) at the
// given indent depth, no trailing newline: its comments above it, the node,
// and its trailing comment.
func RenderNode(n profiles.Node, depth int) (string, error) {
	if n == nil {
		return "", fmt.Errorf("render: nil node")
	}
	if depth < 0 {
		depth = 0
	}
	indent := strings.Repeat(indentUnit, depth)
	m := n.NodeMeta()
	comments, trailing, err := cleanComments(m)
	if err != nil {
		return "", fmt.Errorf("%s at %s: %w", n.Kind(), m.Pos, err)
	}
	var text string
	switch n := n.(type) {
	case *profiles.Profile:
		text, err = renderProfile(n, depth, comments, trailing)
		if err != nil {
			return "", fmt.Errorf("profile %q at %s: %w", n.DisplayName(), m.Pos, err)
		}
		return text, nil // comments and trailing are part of the block
	case *profiles.Comment:
		text = strings.TrimRight(n.Text, "\r")
		err = checkComment(text)
	case *profiles.Raw:
		text = reindentRaw(n, indent)
		if strings.HasSuffix(text, `\`) {
			err = fmt.Errorf("raw text %q ends in a backslash that would escape the line end", text)
		}
	default:
		text, err = renderRule(n)
	}
	if err != nil {
		return "", fmt.Errorf("%s at %s: %w", n.Kind(), m.Pos, err)
	}
	var b strings.Builder
	for _, c := range comments {
		b.WriteString(indent)
		b.WriteString(c)
		b.WriteByte('\n')
	}
	b.WriteString(indent)
	b.WriteString(text)
	if trailing != "" {
		b.WriteByte(' ')
		b.WriteString(trailing)
	}
	return b.String(), nil
}

// RenderLine renders one rule on one line, without indentation or
// comments: the form the learner proposes and review shows. A profile is
// written on one line only when its body is empty (the child a cx rule
// needs: "profile /usr/bin/x flags=(complain) { }").
func RenderLine(n profiles.Node) (string, error) {
	if n == nil {
		return "", fmt.Errorf("render: nil node")
	}
	p, ok := n.(*profiles.Profile)
	if !ok {
		text, err := renderRule(n)
		if err != nil {
			return "", fmt.Errorf("%s: %w", n.Kind(), err)
		}
		return text, nil
	}
	if len(p.Rules) > 0 {
		return "", fmt.Errorf("profile %q has a body: it takes more than one line", p.DisplayName())
	}
	if err := checkProfileHeader(p); err != nil {
		return "", fmt.Errorf("profile %q: %w", p.DisplayName(), err)
	}
	var b strings.Builder
	if err := profileTemplates.ExecuteTemplate(&b, "header", p); err != nil {
		return "", fmt.Errorf("template header: %w", err)
	}
	b.WriteString(" { }")
	return b.String(), nil
}

// cleanComments returns a node's comments with any carriage return of a
// DOS line ending removed, refusing comments that would not read back as
// comments: one that does not start with '#' or spans lines could smuggle
// in a rule.
func cleanComments(m *profiles.Meta) ([]string, string, error) {
	var comments []string
	for _, c := range m.Comments {
		c = strings.TrimRight(c, "\r")
		if err := checkComment(c); err != nil {
			return nil, "", err
		}
		comments = append(comments, c)
	}
	trailing := strings.TrimRight(m.Trailing, "\r")
	if trailing != "" {
		if err := checkComment(trailing); err != nil {
			return nil, "", err
		}
	}
	return comments, trailing, nil
}

func checkComment(c string) error {
	if !strings.HasPrefix(c, "#") {
		return fmt.Errorf("comment %q does not start with '#'", c)
	}
	if strings.ContainsAny(c, "\n\r\x00") {
		return fmt.Errorf("comment %q spans lines", c)
	}
	if strings.HasPrefix(c, "#include") {
		return fmt.Errorf("comment %q would read back as an include", c)
	}
	return nil
}

// renderRule runs the template of a one-line node after checking that
// every bare word in it is safe to write.
func renderRule(n profiles.Node) (string, error) {
	var name string
	var err error
	switch n := n.(type) {
	case *profiles.Abi:
		name, err = "abi", checkPathToken("abi", n.Path, n.Angle)
	case *profiles.Include:
		name, err = "include", checkPathToken("include", n.Path, n.Angle)
	case *profiles.Variable:
		name, err = "variable", checkVariable(n)
	case *profiles.Alias:
		name, err = "alias", checkValues("alias path", n.From, n.To)
	case *profiles.FileRule:
		name, err = "file", checkFileRule(n)
	case *profiles.LinkRule:
		name, err = "link", checkLinkRule(n)
	case *profiles.CapabilityRule:
		name, err = "capability", checkWords("capability", n.Caps...)
	case *profiles.NetworkRule:
		name, err = "network", checkNetworkRule(n)
	case *profiles.ClassRule:
		name, err = "class", checkClassRule(n)
	case *profiles.ChangeProfileRule:
		name, err = "change_profile", checkChangeProfile(n)
	case *profiles.RlimitRule:
		name, err = "rlimit", checkRlimit(n)
	default:
		return "", fmt.Errorf("no template for node kind %q (%T)", n.Kind(), n)
	}
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := profileTemplates.ExecuteTemplate(&b, name, n); err != nil {
		return "", fmt.Errorf("template %s: %w", name, err)
	}
	return b.String(), nil
}

// profileView is what the "profile" layout template renders.
type profileView struct {
	Indent   string
	Comments []string
	Header   string
	// HeaderComment is a comment written after the opening brace, on
	// the header's line: it stays there.
	HeaderComment string
	Groups        [][]string
	Trailing      string
}

func renderProfile(p *profiles.Profile, depth int, comments []string, trailing string) (string, error) {
	if err := checkProfileHeader(p); err != nil {
		return "", err
	}
	var header strings.Builder
	if err := profileTemplates.ExecuteTemplate(&header, "header", p); err != nil {
		return "", fmt.Errorf("template header: %w", err)
	}
	body, headerComment := p.Rules, ""
	if c, ok := headerLineComment(p); ok {
		body, headerComment = body[1:], c.Text
	}
	groups, err := bodyGroups(body, depth+1)
	if err != nil {
		return "", err
	}
	v := profileView{
		Indent:        strings.Repeat(indentUnit, depth),
		Comments:      comments,
		Header:        header.String(),
		HeaderComment: headerComment,
		Groups:        groups,
		Trailing:      trailing,
	}
	var b strings.Builder
	if err := profileTemplates.ExecuteTemplate(&b, "profile", v); err != nil {
		return "", fmt.Errorf("template profile: %w", err)
	}
	return b.String(), nil
}

// headerLineComment returns the comment that follows a profile's opening
// brace on the header's own line ("profile foo { # the foo daemon"), which
// the parser keeps as the body's first comment.
func headerLineComment(p *profiles.Profile) (*profiles.Comment, bool) {
	if len(p.Rules) == 0 {
		return nil, false
	}
	c, ok := p.Rules[0].(*profiles.Comment)
	if !ok || c.Pos.Line == 0 || c.Pos.Line != p.Pos.Line || strings.ContainsRune(c.Text, '\n') {
		return nil, false
	}
	return c, true
}

// bodyGroups renders a profile body as groups of lines: rules between two
// barriers (standalone comments, raw constructs) are stably grouped by
// kind; each barrier run stays in place as its own group.
func bodyGroups(rules []profiles.Node, depth int) ([][]string, error) {
	var groups [][]string
	var segment []profiles.Node
	flush := func() error {
		sort.SliceStable(segment, func(i, j int) bool { return rank(segment[i]) < rank(segment[j]) })
		lastRank := -1
		for _, n := range segment {
			text, err := RenderNode(n, depth)
			if err != nil {
				return err
			}
			r := rank(n)
			if r != lastRank || n.Kind() == profiles.KindProfile {
				groups = append(groups, nil)
				lastRank = r
			} else if len(n.NodeMeta().Comments) > 0 {
				text = "\n" + text // a commented rule starts a paragraph
			}
			groups[len(groups)-1] = append(groups[len(groups)-1], text)
		}
		segment = segment[:0]
		return nil
	}
	var lastBarrier profiles.Kind
	for _, n := range rules {
		k := n.Kind()
		if k != profiles.KindComment && k != profiles.KindRaw {
			segment = append(segment, n)
			lastBarrier = ""
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		text, err := RenderNode(n, depth)
		if err != nil {
			return nil, err
		}
		if k != lastBarrier {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], text)
		lastBarrier = k
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return groups, nil
}

// classOrder is the order of the ClassRule classes within a profile.
var classOrder = map[string]int{
	"signal": 0, "ptrace": 1, "unix": 2, "dbus": 3,
	"mount": 4, "remount": 4, "umount": 4, "pivot_root": 5,
	"userns": 6, "mqueue": 7, "io_uring": 8,
}

// rank is the sort key of a node in a profile body: the group it belongs
// to, in the order AppArmor's tools write rules.
func rank(n profiles.Node) int {
	switch n := n.(type) {
	case *profiles.Abi, *profiles.Include, *profiles.Variable, *profiles.Alias:
		return 0
	case *profiles.RlimitRule:
		return 10
	case *profiles.CapabilityRule:
		return 20
	case *profiles.NetworkRule:
		return 30
	case *profiles.ClassRule:
		if o, ok := classOrder[n.Class]; ok {
			return 40 + o
		}
		return 49
	case *profiles.FileRule, *profiles.LinkRule:
		return 50
	case *profiles.ChangeProfileRule:
		return 60
	case *profiles.Profile:
		if n.IsHat() {
			return 80
		}
		return 70
	}
	return 90
}

// reindentRaw places a verbatim construct at indent. Its continuation lines
// move by the same amount as its first line, but only when that is safe: no
// quoted string may span lines, and only blanks are ever removed.
func reindentRaw(r *profiles.Raw, indent string) string {
	text := strings.TrimLeft(r.Text, " \t")
	if strings.Contains(text, "\r") { // DOS line ends: drop the carriage returns
		ls := strings.Split(text, "\n")
		for i := range ls {
			ls[i] = strings.TrimRight(ls[i], "\r")
		}
		text = strings.Join(ls, "\n")
	}
	if !strings.Contains(text, "\n") || r.Pos.Col < 1 {
		return text
	}
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		if (strings.Count(l, `"`)-strings.Count(l, `\"`))%2 != 0 {
			return text // a quoted string spans lines: keep every byte
		}
	}
	// A line of blanks is an empty line, whether or not the rest can be
	// moved: otherwise the text would change when formatted again, where
	// it starts at another column.
	for i := 1; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) == "" {
			lines[i] = ""
		}
	}
	old := r.Pos.Col - 1
	shift := len(indent) - old
	moved := slices.Clone(lines)
	for i := 1; i < len(moved); i++ {
		l := moved[i]
		if l == "" {
			continue
		}
		switch {
		case shift > 0:
			moved[i] = strings.Repeat(" ", shift) + l
		case shift < 0:
			cut := -shift
			if len(l) < cut || strings.TrimLeft(l[:cut], " ") != "" {
				// Not only blanks to remove: keep the lines where
				// they are.
				return strings.Join(lines, "\n")
			}
			moved[i] = l[cut:]
		}
	}
	return strings.Join(moved, "\n")
}
