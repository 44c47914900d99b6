// Package parser reads the AppArmor profile language into the model of
// package profiles: a lexer turns text into typed tokens with positions, a
// recursive-descent parser builds the nodes. Comments, includes, variables,
// child profiles and hats are kept; a construct the model does not cover is
// kept verbatim as *profiles.Raw, never dropped. Resolver follows includes
// the way apparmor_parser does.
//
// Values in the model are patterns as AppArmor reads them: surrounding
// quotes are removed and backslash escapes kept (`/tmp/lit\*star`,
// `"/tmp/q\"uote"` gives `/tmp/q\"uote`), except that an escaped blank in
// an unquoted word stands for the blank (`/tmp/with\ space` gives
// `/tmp/with space`, the same as `"/tmp/with space"`) - the form
// profiles.EscapeLiteral produces. Permission letters are canonical
// (lower case, in the order r w a l k m).
//
// Kept as *profiles.Raw: if/else conditionals, boolean variables,
// qualifier blocks (`audit { ... }`), exec rules with safe/unsafe, and the
// rules of newer parsers the model lacks (all, priority=, prompt, ...).
//
// Positions count lines and byte columns from 1; Pos.Offset is the byte
// offset. A rule's End is just after its comma, a block's just after its
// closing brace (Profile.Close is the brace itself).
package parser

import (
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// Error is a syntax error with its position: "FILE:LINE:COL: message".
type Error struct {
	Pos profiles.Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// ParseFile reads and parses the policy file at path.
func ParseFile(path string) (*profiles.File, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return Parse(path, src)
}

// Parse parses policy text: a profile file, an abstraction or a tunables
// file. name is used in positions and errors.
func Parse(name string, src []byte) (*profiles.File, error) {
	p := newParser(name, string(src))
	items, _, err := p.parseBlock(nil)
	if err != nil {
		return nil, err
	}
	return &profiles.File{Path: name, Items: items}, nil
}

// parser holds the state of one Parse call.
type parser struct {
	name       string
	src        string
	toks       []token
	i          int   // index of the next token
	lineStarts []int // byte offset of the start of each line
	// inner collects comments met inside a rule, to be kept on its node.
	inner []string
}

func newParser(name, src string) *parser {
	p := &parser{name: name, src: src, toks: lex(src), lineStarts: []int{0}}
	for i := 0; i < len(src); i++ {
		if src[i] == '\n' {
			p.lineStarts = append(p.lineStarts, i+1)
		}
	}
	return p
}

// pos converts a byte offset to a position.
func (p *parser) pos(off int) profiles.Pos {
	line := sort.Search(len(p.lineStarts), func(i int) bool { return p.lineStarts[i] > off }) - 1
	return profiles.Pos{File: p.name, Line: line + 1, Col: off - p.lineStarts[line] + 1, Offset: off}
}

func (p *parser) errorf(off int, format string, args ...any) error {
	return &Error{Pos: p.pos(off), Msg: fmt.Sprintf(format, args...)}
}

// peekRaw returns the next token, comments included.
func (p *parser) peekRaw() token {
	if p.i >= len(p.toks) {
		return p.toks[len(p.toks)-1]
	}
	return p.toks[p.i]
}

// skipComments moves past comments, keeping their text in p.inner.
func (p *parser) skipComments() {
	for p.i < len(p.toks) && p.toks[p.i].typ == tokComment {
		p.inner = append(p.inner, p.toks[p.i].val)
		p.i++
	}
}

// peek returns the next non-comment token.
func (p *parser) peek() token {
	p.skipComments()
	return p.peekRaw()
}

// peekN returns the n-th next non-comment token (0 is peek) without
// consuming comments.
func (p *parser) peekN(n int) token {
	j := p.i
	for ; j < len(p.toks); j++ {
		if p.toks[j].typ == tokComment {
			continue
		}
		if n == 0 {
			return p.toks[j]
		}
		n--
	}
	return p.toks[len(p.toks)-1]
}

// lastEnd is the offset just past the last token next returned.
func (p *parser) lastEnd() int {
	for i := p.i - 1; i >= 0; i-- {
		if p.toks[i].typ != tokComment {
			return p.toks[i].end
		}
	}
	return 0
}

// next consumes and returns the next non-comment token. It never moves past
// the final EOF or error token.
func (p *parser) next() token {
	t := p.peek()
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

// lexErr turns an error token into an Error.
func (p *parser) lexErr(t token) error { return p.errorf(t.off, "%s", t.val) }

// unexpected reports t where something else was wanted.
func (p *parser) unexpected(t token, want string) error {
	switch t.typ {
	case tokError:
		return p.lexErr(t)
	case tokEOF:
		return p.errorf(t.off, "unexpected end of file, want %s", want)
	}
	return p.errorf(t.off, "unexpected %s, want %s", t, want)
}

// expect consumes a token of type typ or fails.
func (p *parser) expect(typ tokenType, want string) (token, error) {
	t := p.next()
	if t.typ != typ {
		return t, p.unexpected(t, want)
	}
	return t, nil
}

// expectComma consumes the comma ending a rule.
func (p *parser) expectComma(what string) (token, error) {
	t := p.peek()
	if t.typ != tokComma {
		return t, p.unexpected(t, "',' to end the "+what)
	}
	return p.next(), nil
}

// meta builds a node's Meta from its first offset and the token ending it.
func (p *parser) meta(start int, last token) profiles.Meta {
	return profiles.Meta{Pos: p.pos(start), End: p.pos(last.end)}
}

// parseBlock parses nodes until the '}' closing open (nil: until the end of
// the file). It attaches comments: a run of comment lines directly above a
// node becomes its Comments, a comment on the line where a node ends its
// Trailing, any other comment a *profiles.Comment node.
func (p *parser) parseBlock(open *token) ([]profiles.Node, token, error) {
	var (
		nodes   []profiles.Node
		pending []token // comments not yet attached
		lastEnd = -1    // line where the previous node ended
	)
	if open != nil {
		lastEnd = p.pos(open.off).Line
	}
	flush := func(upTo int) { // pending[:upTo] become Comment nodes
		for _, c := range pending[:upTo] {
			nodes = append(nodes, &profiles.Comment{Meta: p.meta(c.off, c), Text: c.val})
		}
		pending = pending[upTo:]
	}
	for {
		t := p.peekRaw()
		switch t.typ {
		case tokComment:
			p.i++
			line := p.pos(t.off).Line
			if len(pending) == 0 && line == lastEnd && len(nodes) > 0 {
				if m := nodes[len(nodes)-1].NodeMeta(); m.Trailing == "" && m.End.Line == line {
					m.Trailing = t.val
					continue
				}
			}
			if len(pending) == 0 && line == lastEnd && len(nodes) == 0 && open != nil {
				// On the line of the opening brace: a comment of its own.
				nodes = append(nodes, &profiles.Comment{Meta: p.meta(t.off, t), Text: t.val})
				continue
			}
			pending = append(pending, t)
			continue
		case tokError:
			return nil, t, p.lexErr(t)
		case tokEOF:
			if open != nil {
				return nil, t, p.errorf(t.off, "unexpected end of file: missing '}' to close the block opened at %s", p.pos(open.off))
			}
			flush(len(pending))
			return nodes, t, nil
		case tokRBrace:
			if open == nil {
				return nil, t, p.errorf(t.off, "unexpected '}' with no open block")
			}
			p.i++
			flush(len(pending))
			return nodes, t, nil
		}
		p.inner = nil
		n, err := p.parseStatement(open == nil)
		if err != nil {
			return nil, t, err
		}
		m := n.NodeMeta()
		// The comments directly above the node: the last run of
		// consecutive comment lines ending on the line before it.
		k := len(pending)
		for k > 0 {
			l := p.pos(pending[k-1].off).Line
			want := m.Pos.Line - (len(pending) - k) - 1
			if l != want {
				break
			}
			k--
		}
		flush(k)
		for _, c := range pending {
			m.Comments = append(m.Comments, c.val)
		}
		pending = nil
		m.Comments = append(m.Comments, p.inner...)
		p.inner = nil
		nodes = append(nodes, n)
		lastEnd = m.End.Line
	}
}

// qualifierWords are the rule prefixes.
var qualifierWords = map[string]bool{"audit": true, "deny": true, "allow": true, "owner": true, "other": true}

// rawKeywords start constructs the model does not cover; they are kept
// verbatim.
var rawKeywords = map[string]bool{
	"if": true, "all": true, "change_hat": true, "priority": true, "quiet": true,
	"kill": true, "prompt": true, "complain": true, "unconfined": true,
	// exec rules with an explicit environment-scrubbing mode: the model's
	// FileRule has no field for it.
	"safe": true, "unsafe": true,
}

// classKeywords are the rules parsed into *profiles.ClassRule.
var classKeywords = map[string]bool{
	"signal": true, "ptrace": true, "unix": true, "dbus": true, "mount": true,
	"remount": true, "umount": true, "pivot_root": true, "userns": true,
	"mqueue": true, "io_uring": true,
}

// parseStatement parses one node of a file or profile body. top is true at
// the top level of a file, where a path followed by '{' declares a profile.
func (p *parser) parseStatement(top bool) (profiles.Node, error) {
	t := p.peek()
	switch t.typ {
	case tokHashInclude:
		return p.parseInclude()
	case tokVarDef:
		return p.parseVariable()
	case tokString:
		if top && p.opensBlock() {
			return p.parseProfile(t.off, profiles.Qualifiers{})
		}
		return p.parseRule(t.off, profiles.Qualifiers{})
	case tokWord:
	case tokLBrace:
		return nil, p.errorf(t.off, "unexpected '{': a block needs a profile, hat or qualifier before it")
	default:
		return nil, p.unexpected(t, "a rule, profile or preamble statement")
	}
	switch w := t.val; {
	case w == "include":
		return p.parseInclude()
	case w == "abi":
		return p.parseAbi()
	case w == "alias":
		return p.parseAlias()
	case strings.HasPrefix(w, "$") || (strings.HasPrefix(w, "@") && !strings.HasPrefix(w, "@{") && p.peekN(1).typ == tokEquals):
		return p.parseBoolVar()
	case rawKeywords[w] || strings.HasPrefix(w, "priority="):
		return p.parseRaw(t.off)
	}
	if top && isPathStart(t.val) && p.opensBlock() {
		return p.parseProfile(t.off, profiles.Qualifiers{})
	}
	if top && strings.HasPrefix(t.val, ":") && p.opensBlock() {
		return p.parseProfile(t.off, profiles.Qualifiers{})
	}
	return p.parseRule(t.off, profiles.Qualifiers{})
}

// opensBlock reports whether the statement starting at the next token
// opens a '{' block before any ',' ends it: a profile rather than a rule.
func (p *parser) opensBlock() bool {
	depth := 0
	for j := p.i; j < len(p.toks); j++ {
		switch p.toks[j].typ {
		case tokLParen:
			depth++
		case tokRParen:
			depth--
		case tokComma:
			if depth <= 0 {
				return false
			}
		case tokLBrace:
			return depth <= 0
		case tokRBrace, tokEOF, tokError, tokHashInclude:
			return false
		}
	}
	return false
}

// isPathStart reports whether an unquoted word is a path or pattern.
func isPathStart(w string) bool {
	return strings.HasPrefix(w, "/") || strings.HasPrefix(w, "@{")
}

// parseRule parses a rule after its qualifiers (q so far); start is the
// offset of its first token, qualifiers included.
func (p *parser) parseRule(start int, q profiles.Qualifiers) (profiles.Node, error) {
	t := p.peek()
	for t.typ == tokWord && qualifierWords[t.val] {
		p.next()
		switch t.val {
		case "audit":
			q.Audit = true
		case "deny":
			q.Deny = true
		case "allow":
			q.Allow = true
		case "owner":
			q.Owner = true
		case "other":
			q.Other = true
		}
		t = p.peek()
	}
	if t.typ == tokString {
		return p.parseFileRule(start, q, false)
	}
	if t.typ == tokLBrace && q != (profiles.Qualifiers{}) {
		return p.parseRaw(start) // qualifier block: audit { ... }
	}
	if t.typ != tokWord {
		return nil, p.unexpected(t, "a rule")
	}
	w := t.val
	switch {
	case rawKeywords[w] || strings.HasPrefix(w, "priority="):
		return p.parseRaw(start)
	case w == "profile" || w == "hat" || strings.HasPrefix(w, "^"):
		return p.parseProfile(start, q)
	case w == "capability":
		return p.parseCapability(start, q)
	case w == "network":
		return p.parseNetwork(start, q)
	case classKeywords[w]:
		return p.parseClass(start, q)
	case w == "change_profile":
		return p.parseChangeProfile(start, q)
	case w == "set":
		return p.parseRlimit(start, q)
	case w == "link":
		return p.parseLink(start, q)
	case w == "file":
		if n := p.peekN(1); n.typ == tokWord && (n.val == "safe" || n.val == "unsafe") {
			return p.parseRaw(start)
		}
		return p.parseFileRule(start, q, true)
	case isPathStart(w):
		return p.parseFileRule(start, q, false)
	case isPerms(w):
		if n := p.peekN(1); n.typ == tokString || (n.typ == tokWord && isPathStart(n.val)) {
			return p.parseFileRule(start, q, false)
		}
	}
	if start != t.off && p.peekN(1).typ != tokEquals {
		return nil, p.errorf(t.off, "unknown rule %q", w)
	}
	return nil, p.errorf(t.off, "unknown rule or qualifier %q", w)
}

// parseRaw keeps a construct verbatim: everything up to and including the
// ',' that ends it at nesting depth zero, or a whole { } block (with any
// else branches of an if).
func (p *parser) parseRaw(start int) (profiles.Node, error) {
	depth := 0
	blocks := 0 // '{' opened at paren depth 0
	for {
		t := p.next()
		switch t.typ {
		case tokEOF:
			return nil, p.errorf(start, "unterminated statement: no ',' or '}' before the end of the file")
		case tokError:
			return nil, p.lexErr(t)
		case tokLParen:
			depth++
		case tokRParen:
			depth--
		case tokLBrace:
			blocks++
		case tokRBrace:
			blocks--
			if blocks < 0 {
				return nil, p.errorf(t.off, "unexpected '}'")
			}
			if blocks == 0 {
				if n := p.peekN(0); n.typ == tokWord && n.val == "else" {
					continue
				}
				return p.raw(start, t), nil
			}
		case tokComma:
			if depth <= 0 && blocks == 0 {
				return p.raw(start, t), nil
			}
		}
	}
}

func (p *parser) raw(start int, last token) *profiles.Raw {
	p.inner = nil // comments inside are part of the text
	return &profiles.Raw{Meta: p.meta(start, last), Text: p.src[start:last.end]}
}

// unquote removes the quotes of a string token's text. Escapes are kept:
// the result is a pattern as AppArmor reads it.
func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return s[1 : len(s)-1]
	}
	return s
}

// wordValue is the value of an unquoted word: escapes are kept except an
// escaped blank, which stands for the blank itself (a Path holds "a b"
// whether it was written "a b" or a\ b).
func wordValue(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			if s[i+1] == ' ' || s[i+1] == '\t' {
				b.WriteByte(s[i+1])
			} else {
				b.WriteByte('\\')
				b.WriteByte(s[i+1])
			}
			i++
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// value is the value of a word or string token.
func value(t token) string {
	if t.typ == tokString {
		return unquote(t.val)
	}
	return wordValue(t.val)
}

// isValue reports whether t can be a value (word or quoted string).
func isValue(t token) bool { return t.typ == tokWord || t.typ == tokString }
