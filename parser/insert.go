package parser

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// InsertRules adds accepted rules to a profile file's text and leaves
// everything the person wrote as it was: the lines for each (sub)profile
// go just before its closing brace, indented one step deeper than the
// brace, under the comment line given (e.g. "# learned by aa-flow
// 2026-11-22"). A sub-profile the file does not have yet is written as a
// new block inside its parent, holding its rules: a child profile when a
// rule for the parent is that child, empty (`profile NAME ... { }`, the
// child a cx rule runs a program in: see propose), else a hat, `^NAME {
// ... }` (a kernel label such as "parent///usr/bin/x" does not say which,
// and change_hat is what makes one appear unasked). A new hat starts in
// its parent's mode (complain, kill, ...).
//
// f must be the parse of src: the profiles' End positions locate their
// closing braces. The result is new text; src is not modified.
func InsertRules(src []byte, f *profiles.File, rules []profiles.Chosen, comment string) ([]byte, error) {
	if len(rules) == 0 {
		return append([]byte(nil), src...), nil
	}
	pl, err := place(f, rules)
	if err != nil {
		return nil, err
	}
	return pl.write(src, comment, func(int) bool { return true })
}

// InsertEach is, for each of rules, the text of src with that rule alone
// added where InsertRules(src, f, rules, comment) puts it: a child's rule
// inside the child profile block the other rules open, not a hat. It is
// what a rule is tried in when one is to be told from the others (learn's
// set-aside of rules apparmor_parser refuses). A rule that only opens a
// child (`profile NAME ... { }`) gives the empty child; a rule InsertRules
// would not write again (the same line for the same profile) gives src.
func InsertEach(src []byte, f *profiles.File, rules []profiles.Chosen, comment string) ([][]byte, error) {
	pl, err := place(f, rules)
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(rules))
	for i := range rules {
		if out[i], err = pl.write(src, comment, func(j int) bool { return j == i }); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// placement is where InsertRules puts each rule: the lines per target
// (sub)profile, in order, without duplicates, and the sub-profiles to
// create. It is the one place that decides a rule's place.
type placement struct {
	targets map[*profiles.Profile]*target
	order   []*profiles.Profile
}

type target struct {
	prof  *profiles.Profile
	lines []line
	// subs are the sub-profiles to create inside prof, in order
	subs []*newSub
}

// line is a rule's text and its index in the rules placed.
type line struct {
	text string
	rule int
}

// place decides where each rule goes; see InsertRules.
func place(f *profiles.File, rules []profiles.Chosen) (*placement, error) {
	pl := &placement{targets: map[*profiles.Profile]*target{}}
	get := func(p *profiles.Profile) *target {
		t := pl.targets[p]
		if t == nil {
			t = &target{prof: p}
			pl.targets[p] = t
			pl.order = append(pl.order, p)
		}
		return t
	}
	// sub is the new sub-profile name of the parent p, made on first use.
	sub := func(p *profiles.Profile, name string) *newSub {
		t := get(p)
		for _, s := range t.subs {
			if s.name == name {
				return s
			}
		}
		s := &newSub{name: name, header: subHeader(p, name), opener: -1}
		t.subs = append(t.subs, s)
		return s
	}
	seen := map[string]bool{}
	for i, r := range rules {
		if strings.ContainsAny(r.Text, "\n\r") {
			return nil, fmt.Errorf("rule %q spans lines", r.Text)
		}
		key := r.Profile + "\x00" + r.Text
		if seen[key] {
			continue
		}
		seen[key] = true
		p := f.Find(r.Profile)
		if p != nil {
			if name, header, ok := emptyChild(r.Text); ok {
				if f.Find(r.Profile+"//"+name) == nil {
					s := sub(p, name)
					s.header, s.opener = header, i
				}
				continue
			}
			t := get(p)
			t.lines = append(t.lines, line{r.Text, i})
			continue
		}
		p, name := parentOf(f, r.Profile)
		if p == nil {
			return nil, fmt.Errorf("%s: no profile to add %q to", f.Path, r.Profile)
		}
		s := sub(p, name)
		s.lines = append(s.lines, line{r.Text, i})
	}
	return pl, nil
}

// write is src with the placed rules that keep selects written in their
// places, each (sub)profile's under the comment line; a new sub-profile is
// written when a rule kept is in it or opens it.
func (pl *placement) write(src []byte, comment string, keep func(rule int) bool) ([]byte, error) {
	var edits []Edit
	for _, p := range pl.order {
		t := pl.targets[p]
		var lines []string
		for _, l := range t.lines {
			if keep(l.rule) {
				lines = append(lines, l.text)
			}
		}
		var subs []*newSub
		for _, s := range t.subs {
			k := &newSub{name: s.name, header: s.header}
			for _, l := range s.lines {
				if keep(l.rule) {
					k.lines = append(k.lines, l)
				}
			}
			if len(k.lines) > 0 || s.opener >= 0 && keep(s.opener) {
				subs = append(subs, k)
			}
		}
		if len(lines) == 0 && len(subs) == 0 {
			continue
		}
		brace, err := closingBrace(src, p)
		if err != nil {
			return nil, err
		}
		ls := brace
		for ls > 0 && src[ls-1] != '\n' {
			ls--
		}
		prefix := src[ls:brace]
		var b strings.Builder
		at, end := ls, ls
		indent := string(leadingSpace(prefix))
		if len(bytes.TrimSpace(prefix)) != 0 {
			// The brace shares its line with other text: break the line
			// (dropping the blanks before the brace).
			at, end = brace, brace
			for at > ls && (src[at-1] == ' ' || src[at-1] == '\t') {
				at--
			}
			b.WriteString("\n")
		} else if ls >= 2 && src[ls-2] != '\n' && src[ls-2] != '{' {
			b.WriteString("\n")
		}
		inner := indent + "  "
		if comment != "" {
			b.WriteString(inner + comment + "\n")
		}
		for _, l := range lines {
			b.WriteString(inner + l + "\n")
		}
		for _, s := range subs {
			b.WriteString(inner + s.header + "\n")
			for _, l := range s.lines {
				b.WriteString(inner + "  " + l.text + "\n")
			}
			b.WriteString(inner + "}\n")
		}
		if end == brace {
			b.WriteString(indent)
		}
		edits = append(edits, Edit{Start: at, End: end, Text: b.String()})
	}
	return Splice(src, edits)
}

// newSub is a sub-profile InsertRules creates: its opening line ("profile
// /usr/bin/x flags=(complain) {", "^hat {") and its rules.
type newSub struct {
	name, header string
	lines        []line
	opener       int // the rule that gave the header (an empty child), or -1
}

// emptyChild reports whether a rule is an empty child profile (`profile
// NAME ... { }`, as propose writes the child a cx rule needs, with or
// without a comment after it), with the child's name and its opening line
// (the comment moved there).
func emptyChild(text string) (name, header string, ok bool) {
	if !strings.HasPrefix(text, "profile ") {
		return "", "", false
	}
	f, err := Parse("rule", []byte(text+"\n"))
	if err != nil || len(f.Items) != 1 {
		return "", "", false
	}
	c, isProfile := f.Items[0].(*profiles.Profile)
	if !isProfile || len(c.Rules) != 0 {
		return "", "", false
	}
	// The opening line is the text up to the closing brace, and what
	// follows it (a comment: review's annotations).
	at := c.Close.Offset
	if at < 0 || at >= len(text) || text[at] != '}' {
		return "", "", false
	}
	header = strings.TrimSpace(text[:at])
	if !strings.HasSuffix(header, "{") {
		return "", "", false
	}
	return c.DisplayName(), header + strings.TrimRight(text[at+1:], " \t"), true
}

// subHeader is the opening line of a new sub-profile name of p that no
// rule describes: a hat, in p's mode.
func subHeader(p *profiles.Profile, name string) string {
	h := "^" + profiles.QuoteToken(name)
	if mode := p.ModeFlags(); len(mode) > 0 {
		h += " flags=(" + strings.Join(mode, ", ") + ")"
	}
	return h + " {"
}

func leadingSpace(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return b[:i]
}

// closingBrace is the offset of a profile's closing brace, as the parser
// recorded it.
func closingBrace(src []byte, p *profiles.Profile) (int, error) {
	if c := p.Close; c.Line > 0 && c.Offset >= 0 && c.Offset < len(src) && src[c.Offset] == '}' {
		return c.Offset, nil
	}
	return 0, fmt.Errorf("profile %s: no closing brace recorded (is the file the parse of this text?)", p.DisplayName())
}

// parentOf finds the existing profile a missing hat or child belongs in:
// the longest prefix of name, cut at a "//", that the file has. A child
// named by a path shows as "parent///usr/bin/x".
func parentOf(f *profiles.File, name string) (*profiles.Profile, string) {
	for i := len(name) - 2; i > 0; i-- {
		if name[i] != '/' || name[i+1] != '/' {
			continue
		}
		if p := f.Find(name[:i]); p != nil && i+2 < len(name) && !strings.Contains(name[i+2:], "//") {
			return p, name[i+2:]
		}
	}
	return nil, ""
}
