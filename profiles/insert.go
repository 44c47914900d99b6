package profiles

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// InsertRules adds accepted rules to a profile file's text and leaves
// everything the person wrote as it was: the lines for each (sub)profile
// go just before its closing brace, indented one step deeper than the
// brace, under the comment line given (e.g. "# learned by aa-flow
// 2026-11-22"). A hat or child the file does not have yet is written as a
// new `^name { ... }` block inside its parent.
//
// f must be the parse of src: the profiles' End positions locate their
// closing braces. The result is new text; src is not modified.
func InsertRules(src []byte, f *File, rules []Chosen, comment string) ([]byte, error) {
	if len(rules) == 0 {
		return append([]byte(nil), src...), nil
	}
	lines := lineStarts(src)
	// Lines per target (sub)profile, in order, without duplicates.
	type target struct {
		prof  *Profile
		lines []string
		// hats to create inside prof: name -> lines
		hats     map[string][]string
		hatOrder []string
	}
	targets := map[*Profile]*target{}
	var order []*Profile
	get := func(p *Profile) *target {
		t := targets[p]
		if t == nil {
			t = &target{prof: p, hats: map[string][]string{}}
			targets[p] = t
			order = append(order, p)
		}
		return t
	}
	seen := map[string]bool{}
	for _, r := range rules {
		if strings.ContainsAny(r.Text, "\n\r") {
			return nil, fmt.Errorf("rule %q spans lines", r.Text)
		}
		key := r.Profile + "\x00" + r.Text
		if seen[key] {
			continue
		}
		seen[key] = true
		if p := f.Find(r.Profile); p != nil {
			t := get(p)
			t.lines = append(t.lines, r.Text)
			continue
		}
		p, hat := parentOf(f, r.Profile)
		if p == nil {
			return nil, fmt.Errorf("%s: no profile to add %q to", f.Path, r.Profile)
		}
		t := get(p)
		if _, ok := t.hats[hat]; !ok {
			t.hatOrder = append(t.hatOrder, hat)
		}
		t.hats[hat] = append(t.hats[hat], r.Text)
	}
	type edit struct {
		at, end int // replace src[at:end]
		text    string
	}
	var edits []edit
	for _, p := range order {
		t := targets[p]
		brace, err := closingBrace(src, lines, p)
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
		for _, l := range t.lines {
			b.WriteString(inner + l + "\n")
		}
		for _, h := range t.hatOrder {
			b.WriteString(inner + "^" + QuoteToken(h) + " {\n")
			for _, l := range t.hats[h] {
				b.WriteString(inner + "  " + l + "\n")
			}
			b.WriteString(inner + "}\n")
		}
		if end == brace {
			b.WriteString(indent)
		}
		edits = append(edits, edit{at, end, b.String()})
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].at > edits[j].at })
	out := append([]byte(nil), src...)
	for _, e := range edits {
		out = append(out[:e.at], append([]byte(e.text), out[e.end:]...)...)
	}
	return out, nil
}

func leadingSpace(b []byte) []byte {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return b[:i]
}

// lineStarts lists the byte offset of each line's first byte.
func lineStarts(src []byte) []int {
	out := []int{0}
	for i, c := range src {
		if c == '\n' {
			out = append(out, i+1)
		}
	}
	return out
}

// closingBrace finds the offset of a profile's closing brace: its Close
// position, or else the last '}' before its End position.
func closingBrace(src []byte, lines []int, p *Profile) (int, error) {
	if c := p.Close; c.Line > 0 && c.Offset >= 0 && c.Offset < len(src) && src[c.Offset] == '}' {
		return c.Offset, nil
	}
	end := p.End
	if end.Line < 1 || end.Line > len(lines) || end.Col < 1 {
		return 0, fmt.Errorf("profile %s: no end position (was the file parsed?)", p.DisplayName())
	}
	off := lines[end.Line-1] + end.Col - 1
	if off > len(src) {
		return 0, fmt.Errorf("profile %s: end position %s is past the end of the file", p.DisplayName(), end)
	}
	i := off - 1
	for i >= 0 && (src[i] == ' ' || src[i] == '\t' || src[i] == '\n' || src[i] == '\r') {
		i--
	}
	if i < 0 || src[i] != '}' {
		return 0, fmt.Errorf("profile %s: no closing brace before %s", p.DisplayName(), end)
	}
	return i, nil
}

// parentOf finds the existing profile a missing hat or child belongs in:
// the longest prefix of name, cut at a "//", that the file has. A child
// named by a path shows as "parent///usr/bin/x".
func parentOf(f *File, name string) (*Profile, string) {
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
