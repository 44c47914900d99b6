package rollout

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// The modes a profile can be flipped between.
const (
	ModeComplain = "complain"
	ModeEnforce  = "enforce"
)

// ModeOf returns the mode the kernel will report for the profile name in
// src, from its flags: complain, kill, unconfined, prompt, or enforce. When
// src does not parse or has no profile of that name, the first profile
// header's flags are used.
func ModeOf(src []byte, name string) string {
	f, err := parser.Parse(name, src)
	if err != nil {
		f = nil
	}
	return modeIn(f, src, name)
}

// modeIn is ModeOf for src already parsed into f (nil: it did not parse).
func modeIn(f *profiles.File, src []byte, name string) string {
	if f != nil {
		if p := f.Find(name); p != nil {
			return modeFromFlags(p.Flags)
		}
		if ps := f.Profiles(); len(ps) > 0 {
			return modeFromFlags(ps[0].Flags)
		}
	}
	return modeFromFlags(headerFlags(string(src)))
}

// Modes returns the mode of the profile name and of each of its child
// profiles and hats, by the name the kernel lists them under (parent//child).
func Modes(src []byte, name string) (map[string]string, error) {
	f, err := parser.Parse(name, src)
	if err != nil {
		return nil, err
	}
	return modesIn(f, name)
}

// modesIn is Modes for a parsed file.
func modesIn(f *profiles.File, name string) (map[string]string, error) {
	p := f.Find(name)
	if p == nil {
		return nil, fmt.Errorf("no profile %q in the file (it has %s)", name, profileNames(f))
	}
	out := map[string]string{}
	walk(p, name, func(q *profiles.Profile, full string) { out[full] = modeFromFlags(q.Flags) })
	return out, nil
}

func walk(p *profiles.Profile, full string, fn func(*profiles.Profile, string)) {
	fn(p, full)
	for _, c := range p.Children() {
		walk(c, full+"//"+c.DisplayName(), fn)
	}
}

func profileNames(f *profiles.File) string {
	var names []string
	for _, p := range f.Profiles() {
		names = append(names, fmt.Sprintf("%q", p.DisplayName()))
	}
	if len(names) == 0 {
		return "no profiles"
	}
	return strings.Join(names, ", ")
}

func modeFromFlags(flags []string) string {
	for _, m := range []string{"complain", "kill", "unconfined", "prompt"} {
		for _, f := range flags {
			if f == m {
				return m
			}
		}
	}
	return ModeEnforce
}

// SetMode returns src with the profile name and all its child profiles and
// hats put in mode (ModeComplain or ModeEnforce). It edits only the
// flags=(...) part of each profile header, so the person's layout and
// comments are kept byte for byte; the result is parsed again to check that
// every profile now has the mode.
func SetMode(src []byte, name, mode string) ([]byte, error) {
	if mode != ModeComplain && mode != ModeEnforce {
		return nil, fmt.Errorf("set mode of %s: unknown mode %q", name, mode)
	}
	f, err := parser.Parse(name, src)
	if err != nil {
		return nil, fmt.Errorf("set mode of %s: %w", name, err)
	}
	top := f.Find(name)
	if top == nil {
		return nil, fmt.Errorf("set mode of %s: no profile %q in the file (it has %s)", name, name, profileNames(f))
	}
	var edits []parser.Edit
	var werr error
	want := map[string][]string{} // every profile's flags after the edit
	walk(top, name, func(p *profiles.Profile, full string) {
		if werr != nil {
			return
		}
		want[full] = newFlags(p.Flags, mode)
		for _, f := range p.Flags {
			if !plainFlag(f) {
				werr = fmt.Errorf("set mode of %s: profile %s at %s: flag %q is not a flag aa-flow can rewrite safely; fix the profile's flags=(...) by hand", name, full, p.Meta.Pos, f)
				return
			}
		}
		// Every header is checked, also when its flags stay as they are,
		// so that a header aa-flow could not edit is refused in both
		// directions, not only when it would need the edit.
		if len(p.FlagSpans) > 1 {
			werr = fmt.Errorf("set mode of %s: profile %s at %s: its header has %d flags clauses; join them into one by hand", name, full, p.Meta.Pos, len(p.FlagSpans))
			return
		}
		flags := newFlags(p.Flags, mode)
		if slices.Equal(flags, p.Flags) {
			return
		}
		start := p.Meta.Pos.Offset // the header's first byte
		switch {
		case len(p.FlagSpans) == 1 && len(flags) == 0:
			// Remove " flags=(...)" (or the old " (...)") with the blank
			// before it.
			sp := p.FlagSpans[0]
			s := sp.Start
			for s > start && (src[s-1] == ' ' || src[s-1] == '\t') && !escapedAt(src, s-1) {
				s--
			}
			// "NAME flags=(complain){" must become "NAME {", not
			// "NAME{": glued to the name, the brace would read as part
			// of it (found by FuzzSetMode).
			text := ""
			if sp.End < len(src) && !isBlank(src[sp.End]) {
				text = " "
			}
			edits = append(edits, parser.Edit{Start: s, End: sp.End, Text: text})
		case len(p.FlagSpans) == 1:
			sp := p.FlagSpans[0]
			written := src[sp.Start:sp.End]
			sep := flagSep(string(written), len(p.Flags))
			text := "flags=(" + strings.Join(flags, sep) + ")"
			if written[0] == '(' {
				text = "(" + strings.Join(flags, sep) + ")" // the old "NAME (flags) {" form
			}
			// "flags=complain" without parentheses, which apparmor_parser
			// 3.0 rejects, is written back with them.
			edits = append(edits, parser.Edit{Start: sp.Start, End: sp.End, Text: text})
		default:
			// Insert before the brace, after the last word of the header.
			at := p.Open.Offset
			for at > start && isBlank(src[at-1]) && !escapedAt(src, at-1) {
				at--
			}
			edits = append(edits, parser.Edit{Start: at, End: at, Text: " flags=(" + strings.Join(flags, ", ") + ")"})
		}
	})
	if werr != nil {
		return nil, werr
	}
	out, err := parser.Splice(src, edits)
	if err != nil {
		return nil, fmt.Errorf("set mode of %s: %w", name, err)
	}
	// Check the edit, on one parse of the result: every profile under name
	// now has the mode, and exactly the flags intended, no more, no less (a
	// header the text edit misread, an unusual spelling, is refused here
	// rather than written).
	ef, err := parser.Parse(name, out)
	if err != nil {
		return nil, fmt.Errorf("set mode of %s: the edited text does not parse: %w", name, err)
	}
	etop := ef.Find(name)
	if etop == nil {
		return nil, fmt.Errorf("set mode of %s: the edited text does not parse: no profile %q in the file (it has %s)", name, name, profileNames(ef))
	}
	got := map[string][]string{}
	walk(etop, name, func(c *profiles.Profile, full string) { got[full] = c.Flags })
	for full, flags := range got {
		if m := modeFromFlags(flags); m != mode {
			return nil, fmt.Errorf("set mode of %s: %s is still (%s) after the edit", name, full, m)
		}
	}
	if len(got) != len(want) {
		return nil, fmt.Errorf("set mode of %s: the edit changed the profiles it defines; fix the profile header by hand", name)
	}
	for full, w := range want {
		if !slices.Equal(got[full], w) {
			return nil, fmt.Errorf("set mode of %s: %s has flags %v after the edit, want %v; fix the profile header by hand", name, full, got[full], w)
		}
	}
	return out, nil
}

// newFlags is flags with mode applied: complain added (and kill dropped) for
// complain mode, complain dropped for enforce mode; other flags kept in
// order.
func newFlags(flags []string, mode string) []string {
	var out []string
	for _, f := range flags {
		if f == ModeComplain || f == ModeEnforce || (mode == ModeComplain && f == "kill") {
			continue
		}
		out = append(out, f)
	}
	if mode == ModeComplain {
		out = append(out, ModeComplain)
	}
	return out
}

// flagSep is the separator the person used between flags: ", " unless the
// written flags show another.
func flagSep(written string, n int) string {
	switch {
	case strings.Contains(written, ", "):
		return ", "
	case strings.Contains(written, ","):
		return ","
	case n > 1:
		return " "
	}
	return ", "
}

// plainFlag reports whether f looks like an AppArmor profile flag
// (complain, attach_disconnected, error=EPERM,
// attach_disconnected.path=/x, ...): a word with no parentheses, commas,
// quotes or blanks, which can be written back verbatim.
func plainFlag(f string) bool {
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("_.=/-", c) >= 0
		if !ok {
			return false
		}
	}
	return true
}

// isBlank is the parser's whitespace (parser's isSpace): the header
// scanner must split words where the parser does.
func isBlank(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// header locates the parts of a profile header in the source.
type header struct {
	start                int // the header's first byte
	flagsStart, flagsEnd int // the flags=... span, or -1
	brace                int // the '{' opening the body
}

// scanHeader reads a profile header from off up to the brace that opens its
// body, skipping quoted strings, comments and parenthesised groups, and
// noting where flags=... is. A '{' inside a word (an attachment glob such as
// /usr/{bin,sbin}/x) is part of the word.
func scanHeader(src []byte, off int) (header, error) {
	h := header{start: off, flagsStart: -1, flagsEnd: -1, brace: -1}
	i := off
	atWordStart := true
	var last byte // the last byte of the previous word
	for i < len(src) {
		c := src[i]
		if !isBlank(c) && c != '#' && c != '(' && c != '{' {
			last = c
		}
		switch {
		case isBlank(c):
			atWordStart = true
			i++
		case c == '#' && atWordStart:
			for i < len(src) && src[i] != '\n' {
				i++
			}
		case c == '"':
			i++
			for i < len(src) && src[i] != '"' {
				if src[i] == '\\' {
					i++
				}
				i++
			}
			i++
			atWordStart = false
		case c == '{' && atWordStart:
			h.brace = i
			return h, nil
		case c == '(' && (atWordStart || (i > off && src[i-1] == '=')):
			// Inside a word (a name such as "/opt/a(b)") a parenthesis
			// is part of the word: the default case takes it.
			// A group at the start of a word is the old flags form,
			// "/bin/foo (complain) {"; after key= (or key = ) it
			// belongs to the key.
			s := i
			for i < len(src) && src[i] != ')' {
				i++
			}
			i++
			if atWordStart && last != '=' && h.flagsStart < 0 {
				h.flagsStart, h.flagsEnd = s, min(i, len(src))
			}
			atWordStart = true
			last = ')'
		default:
			if atWordStart && hasWord(src[i:], "flags") {
				j := i + len("flags")
				for j < len(src) && isBlank(src[j]) {
					j++
				}
				if j < len(src) && src[j] == '=' {
					j++
					for j < len(src) && isBlank(src[j]) {
						j++
					}
					if j < len(src) && src[j] == '(' {
						for j < len(src) && src[j] != ')' {
							j++
						}
						j++
					} else {
						for j < len(src) && !isBlank(src[j]) && src[j] != '{' {
							j++
						}
					}
					h.flagsStart, h.flagsEnd = i, min(j, len(src))
					i = h.flagsEnd
					atWordStart = true
					continue
				}
			}
			if c == '\\' && i+1 < len(src) {
				i++ // an escaped byte (a blank, a brace) is part of the word
			}
			i++
			atWordStart = false
		}
	}
	return h, fmt.Errorf("no '{' after the profile header")
}

// escapedAt reports whether src[i] is escaped: an odd number of
// backslashes stands right before it ("^\ " names a hat " ").
func escapedAt(src []byte, i int) bool {
	n := 0
	for i-n-1 >= 0 && src[i-n-1] == '\\' {
		n++
	}
	return n%2 == 1
}

func hasWord(b []byte, w string) bool {
	return len(b) >= len(w) && string(b[:len(w)]) == w
}

// headerFlags finds the flags of the first profile header in src, for text
// the parser cannot read.
func headerFlags(src string) []string {
	lines := strings.Split(src, "\n")
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") {
			continue
		}
		i := strings.Index(t, "flags")
		if i < 0 || !strings.Contains(t, "{") || strings.Index(t, "{") < i {
			continue
		}
		h, err := scanHeader([]byte(t), 0)
		if err != nil || h.flagsStart < 0 {
			continue
		}
		return clauseFlags(t[h.flagsStart:h.flagsEnd])
	}
	return nil
}

// clauseFlags splits a flags clause as written ("flags=(a, b)", "(a,b)",
// "flags=a") into its flags.
func clauseFlags(clause string) []string {
	raw := strings.TrimPrefix(clause, "flags")
	raw = strings.Trim(strings.TrimLeft(raw, " \t="), "()")
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
}
