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
// 2026-11-22"). A hat or child the file does not have yet is written as a
// new `^name { ... }` block inside its parent.
//
// f must be the parse of src: the profiles' End positions locate their
// closing braces. The result is new text; src is not modified.
func InsertRules(src []byte, f *profiles.File, rules []profiles.Chosen, comment string) ([]byte, error) {
	if len(rules) == 0 {
		return append([]byte(nil), src...), nil
	}
	// Lines per target (sub)profile, in order, without duplicates.
	type target struct {
		prof  *profiles.Profile
		lines []string
		// hats to create inside prof: name -> lines
		hats     map[string][]string
		hatOrder []string
	}
	targets := map[*profiles.Profile]*target{}
	var order []*profiles.Profile
	get := func(p *profiles.Profile) *target {
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
	var edits []Edit
	for _, p := range order {
		t := targets[p]
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
		for _, l := range t.lines {
			b.WriteString(inner + l + "\n")
		}
		for _, h := range t.hatOrder {
			b.WriteString(inner + "^" + profiles.QuoteToken(h) + " {\n")
			for _, l := range t.hats[h] {
				b.WriteString(inner + "  " + l + "\n")
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
