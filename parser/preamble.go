package parser

import (
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// parseInclude parses `include <x>`, `#include "x"`, `include if exists <x>`
// and the bare form `include /path`. An include has no ending comma.
func (p *parser) parseInclude() (profiles.Node, error) {
	kw := p.next()
	inc := &profiles.Include{Hash: kw.typ == tokHashInclude}
	if t := p.peek(); t.typ == tokWord && t.val == "if" {
		p.next()
		if t, err := p.expect(tokWord, "'exists' after 'include if'"); err != nil || t.val != "exists" {
			if err == nil {
				err = p.unexpected(t, "'exists' after 'include if'")
			}
			return nil, err
		}
		inc.IfExists = true
	}
	t := p.next()
	if t.typ != tokEOF && strings.ContainsRune(p.src[kw.off:t.off], '\n') {
		// apparmor_parser reads the path on the keyword's line only (and
		// a '#' there as the path, not a comment).
		return nil, p.errorf(kw.off, "include without a path on its line")
	}
	var ok bool
	if inc.Path, inc.Angle, ok = fileToken(t); !ok {
		return nil, p.unexpected(t, "the included file as <path> or \"path\"")
	}
	if inc.Path == "" {
		return nil, p.errorf(t.off, "empty include path")
	}
	inc.Meta = p.meta(kw.off, t)
	return inc, nil
}

// parseAbi parses `abi <abi/3.0>,` or `abi "path",`.
func (p *parser) parseAbi() (profiles.Node, error) {
	kw := p.next()
	a := &profiles.Abi{}
	t := p.next()
	var ok bool
	if a.Path, a.Angle, ok = fileToken(t); !ok {
		return nil, p.unexpected(t, "the abi as <path> or \"path\"")
	}
	end, err := p.expectComma("abi statement")
	if err != nil {
		return nil, err
	}
	a.Meta = p.meta(kw.off, end)
	return a, nil
}

// fileToken reads the file an include or abi names: <path> (angle),
// "path" or a bare word; ok is false for any other token.
func fileToken(t token) (path string, angle, ok bool) {
	switch t.typ {
	case tokAngle:
		return angleValue(t.val), true, true
	case tokString:
		return unquote(t.val), false, true
	case tokWord:
		return wordValue(t.val), false, true
	}
	return "", false, false
}

// parseAlias parses `alias /from -> /to,`.
func (p *parser) parseAlias() (profiles.Node, error) {
	kw := p.next()
	from := p.next()
	if !isValue(from) {
		return nil, p.unexpected(from, "the path to alias")
	}
	if _, err := p.expect(tokArrow, "'->' in alias"); err != nil {
		return nil, err
	}
	to := p.next()
	if !isValue(to) {
		return nil, p.unexpected(to, "the alias target path")
	}
	end, err := p.expectComma("alias")
	if err != nil {
		return nil, err
	}
	return &profiles.Alias{Meta: p.meta(kw.off, end), From: value(from), To: value(to)}, nil
}

// parseVariable parses `@{NAME} = values...` or `+=`, values running to
// the end of the line.
func (p *parser) parseVariable() (profiles.Node, error) {
	def := p.next()
	v := &profiles.Variable{Name: def.val[2 : len(def.val)-1]}
	op := p.next()
	v.Append = op.typ == tokPlusEquals
	last := op
	for {
		t := p.next()
		switch t.typ {
		case tokWord, tokString:
			v.Values = append(v.Values, value(t))
			last = t
			continue
		case tokEOL:
		case tokError:
			return nil, p.lexErr(t)
		default:
			return nil, p.unexpected(t, "a variable value")
		}
		break
	}
	if v.Name == "" {
		return nil, p.errorf(def.off, "empty variable name")
	}
	v.Meta = p.meta(def.off, last)
	return v, nil
}

// parseBoolVar keeps a boolean variable assignment `$NAME = true` (or the
// old `@NAME = value`) verbatim.
func (p *parser) parseBoolVar() (profiles.Node, error) {
	name := p.next()
	if _, err := p.expect(tokEquals, "'=' after a boolean variable"); err != nil {
		return nil, err
	}
	val := p.next()
	if !isValue(val) {
		return nil, p.unexpected(val, "true or false")
	}
	return p.raw(name.off, val), nil
}

// angleValue is the path inside <...>: blanks around it and quotes removed
// (apparmor_parser accepts < "a b" >).
func angleValue(s string) string {
	return unquote(strings.TrimSpace(s[1 : len(s)-1]))
}
