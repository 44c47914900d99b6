package parser

import (
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// parseProfile parses a profile, child profile or hat header and its body:
// `[profile|hat] NAME [ATTACHMENT] [xattrs=(...)] [flags=(...)] { ... }`,
// `^HAT { ... }` or `ATTACHMENT [flags=...] { ... }`.
func (p *parser) parseProfile(start int, q profiles.Qualifiers) (profiles.Node, error) {
	pr := &profiles.Profile{Q: q}
	t := p.next()
	switch {
	case t.typ == tokWord && (t.val == "profile" || t.val == "hat"):
		pr.Keyword = t.val
		n := p.next()
		if !isValue(n) {
			return nil, p.unexpected(n, "a profile name")
		}
		pr.Name = value(n)
		if a := p.peek(); isValue(a) && p.peekN(1).typ != tokEquals {
			p.next()
			pr.Attachment = value(a)
		}
	case t.typ == tokWord && strings.HasPrefix(t.val, "^"):
		pr.Keyword = "^"
		pr.Name = wordValue(t.val[1:])
		if pr.Name == "" {
			n := p.next()
			if !isValue(n) {
				return nil, p.unexpected(n, "a hat name after '^'")
			}
			pr.Name = value(n)
		}
	case t.typ == tokWord && strings.HasPrefix(t.val, ":"):
		pr.Name = wordValue(t.val)
		if a := p.peek(); isValue(a) && p.peekN(1).typ != tokEquals {
			p.next()
			pr.Attachment = value(a)
		}
	default:
		// ATTACHMENT {, or NAME ATTACHMENT { (a name written as a path).
		pr.Attachment = value(t)
		if a := p.peek(); isValue(a) && p.peekN(1).typ != tokEquals {
			p.next()
			pr.Name, pr.Attachment = pr.Attachment, value(a)
		}
	}
	for {
		t := p.next()
		switch {
		case t.typ == tokLBrace:
			pr.Open = p.pos(t.off)
			header := p.inner // comments inside the header stay with the profile
			p.inner = nil
			rules, closer, err := p.parseBlock(&t)
			if err != nil {
				return nil, err
			}
			p.inner = header
			pr.Rules = rules
			pr.Close = p.pos(closer.off)
			pr.Meta = p.meta(start, closer)
			return pr, nil
		case t.typ == tokLParen: // the old form of flags: (complain)
			p.i--
			flags, err := p.parseFlags()
			if err != nil {
				return nil, err
			}
			pr.Flags = append(pr.Flags, flags...)
			pr.FlagSpans = append(pr.FlagSpans, profiles.Span{Start: t.off, End: p.lastEnd()})
		case t.typ == tokWord && (t.val == "flags" || t.val == "xattrs") && p.peek().typ == tokEquals:
			p.next()
			if t.val == "flags" {
				flags, err := p.parseFlags()
				if err != nil {
					return nil, err
				}
				pr.Flags = append(pr.Flags, flags...)
				pr.FlagSpans = append(pr.FlagSpans, profiles.Span{Start: t.off, End: p.lastEnd()})
				continue
			}
			if _, err := p.expect(tokLParen, "'(' after xattrs="); err != nil {
				return nil, err
			}
			conds, err := p.parseCondList()
			if err != nil {
				return nil, err
			}
			pr.Xattrs = conds
		default:
			return nil, p.unexpected(t, "'{' to open the profile body, flags= or xattrs=")
		}
	}
}

// parseFlags parses the value of flags=: `(a, b c)` or a single word.
func (p *parser) parseFlags() ([]string, error) {
	t := p.next()
	if isValue(t) {
		return []string{value(t)}, nil
	}
	if t.typ != tokLParen {
		return nil, p.unexpected(t, "'(' or a flag after flags=")
	}
	var flags []string
	for {
		t := p.next()
		switch {
		case t.typ == tokRParen:
			return flags, nil
		case t.typ == tokComma:
		case isValue(t):
			f := value(t)
			if p.peek().typ == tokEquals { // attach_disconnected.path=/x
				p.next()
				v := p.next()
				if !isValue(v) {
					return nil, p.unexpected(v, "a flag value")
				}
				f += "=" + value(v)
			}
			flags = append(flags, f)
		default:
			return nil, p.unexpected(t, "a flag or ')'")
		}
	}
}

// parseValueList parses values up to ')' (the '(' already read), separated
// by blanks or commas.
func (p *parser) parseValueList() ([]string, error) {
	var vals []string
	for {
		t := p.next()
		switch {
		case t.typ == tokRParen:
			return vals, nil
		case t.typ == tokComma:
		case isValue(t):
			vals = append(vals, value(t))
		default:
			return nil, p.unexpected(t, "a value or ')'")
		}
	}
}

// parseCondList parses `key=value key=(v ...)` conditions up to ')' (the
// '(' already read), as in peer=(...) and xattrs=(...).
func (p *parser) parseCondList() ([]profiles.Cond, error) {
	var conds []profiles.Cond
	for {
		t := p.next()
		switch {
		case t.typ == tokRParen:
			return conds, nil
		case t.typ == tokComma:
		case t.typ == tokWord && (p.peek().typ == tokEquals || p.peek().val == "in"):
			c, err := p.parseCondValue(t)
			if err != nil {
				return nil, err
			}
			conds = append(conds, c)
		case isValue(t): // a key alone: xattrs=(user.trusted)
			conds = append(conds, profiles.Cond{Key: value(t)})
		default:
			return nil, p.unexpected(t, "a key=value condition or ')'")
		}
	}
}

// isCondKey reports whether k can name a condition: a word of letters,
// digits, '_', '.' and '-' (xattrs keys such as security.ima) starting
// with a letter or '_'. Anything else, written back as k=..., would not
// read as a condition ("+" and "=" make "+=").
func isCondKey(k string) bool {
	if k == "" || !(k[0] == '_' || k[0] >= 'a' && k[0] <= 'z' || k[0] >= 'A' && k[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || c == '.' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// parseCondValue parses what follows a condition's key: `=value`,
// `=(v ...)` or `in (v ...)`.
func (p *parser) parseCondValue(key token) (profiles.Cond, error) {
	c := profiles.Cond{Key: key.val}
	if !isCondKey(key.val) {
		return c, p.errorf(key.off, "%q is not a condition name (a word such as addr, label, peer)", key.val)
	}
	t := p.next()
	switch {
	case t.typ == tokEquals:
	case t.typ == tokWord && t.val == "in":
		c.In = true
	default:
		return c, p.unexpected(t, "'=' or 'in' after "+key.val)
	}
	v := p.next()
	switch {
	case v.typ == tokLParen:
		c.Paren = true
		vals, err := p.parseValueList()
		if err != nil {
			return c, err
		}
		c.Values = vals
	case isValue(v):
		c.Values = []string{value(v)}
	default:
		return c, p.unexpected(v, "a value for "+key.val)
	}
	return c, nil
}

// parseCapability parses `capability [name ...],`.
func (p *parser) parseCapability(start int, q profiles.Qualifiers) (profiles.Node, error) {
	p.next()
	r := &profiles.CapabilityRule{Q: q}
	for {
		t := p.next()
		switch t.typ {
		case tokComma:
			r.Meta = p.meta(start, t)
			return r, nil
		case tokWord:
			r.Caps = append(r.Caps, t.val)
		default:
			return nil, p.unexpected(t, "a capability name or ','")
		}
	}
}

var networkTypes = map[string]bool{"stream": true, "dgram": true, "seqpacket": true, "rdm": true, "raw": true, "packet": true}

var networkAccess = map[string]bool{
	"create": true, "accept": true, "bind": true, "connect": true, "listen": true,
	"read": true, "write": true, "send": true, "receive": true, "getopt": true,
	"setopt": true, "getattr": true, "setattr": true, "shutdown": true, "r": true, "w": true, "rw": true,
}

// parseNetwork parses `network [access] [family] [type|protocol] [conds],`.
func (p *parser) parseNetwork(start int, q profiles.Qualifiers) (profiles.Node, error) {
	p.next()
	r := &profiles.NetworkRule{Q: q}
	for {
		t := p.next()
		switch {
		case t.typ == tokComma:
			r.Meta = p.meta(start, t)
			return r, nil
		case t.typ == tokLParen && r.Access == nil && r.Family == "":
			vals, err := p.parseValueList()
			if err != nil {
				return nil, err
			}
			r.Access = vals
		case t.typ == tokWord && t.val == "peer" && p.peek().typ == tokEquals && p.peekN(1).typ == tokLParen:
			p.next()
			p.next()
			conds, err := p.parseCondList()
			if err != nil {
				return nil, err
			}
			r.Peer = conds
		case t.typ == tokWord && p.peek().typ == tokEquals:
			c, err := p.parseCondValue(t)
			if err != nil {
				return nil, err
			}
			r.Conds = append(r.Conds, c)
		case t.typ == tokWord:
			switch w := t.val; {
			case r.Access == nil && r.Family == "" && r.Type == "" && networkAccess[w]:
				r.Access = []string{w}
			case r.Family == "" && r.Type == "" && r.Protocol == "" && !networkTypes[w]:
				r.Family = w
			case r.Type == "" && r.Protocol == "" && networkTypes[w]:
				r.Type = w
			case r.Protocol == "":
				r.Protocol = w
			default:
				return nil, p.errorf(t.off, "unexpected %q in network rule", w)
			}
		default:
			return nil, p.unexpected(t, "a network family, type, protocol, condition or ','")
		}
	}
}

// parseClass parses the rules that share the ClassRule shape.
func (p *parser) parseClass(start int, q profiles.Qualifiers) (profiles.Node, error) {
	kw := p.next()
	r := &profiles.ClassRule{Q: q, Class: kw.val}
	mountLike := kw.val == "mount" || kw.val == "remount" || kw.val == "umount" || kw.val == "pivot_root"
	for {
		t := p.next()
		switch {
		case t.typ == tokComma:
			r.Meta = p.meta(start, t)
			return r, nil
		case t.typ == tokLParen && r.Access == nil && r.Conds == nil && r.Args == nil && !mountLike:
			vals, err := p.parseValueList()
			if err != nil {
				return nil, err
			}
			r.Access = vals
		case t.typ == tokArrow:
			v := p.next()
			if !isValue(v) {
				return nil, p.unexpected(v, "a target after '->'")
			}
			r.Target = value(v)
		case t.typ == tokWord && t.val == "peer" && p.peek().typ == tokEquals:
			p.next()
			if p.peek().typ == tokLParen {
				p.next()
				conds, err := p.parseCondList()
				if err != nil {
					return nil, err
				}
				r.Peer = conds
				continue
			}
			v := p.next()
			if !isValue(v) {
				return nil, p.unexpected(v, "a peer label")
			}
			r.Peer = []profiles.Cond{{Key: "label", Values: []string{value(v)}}}
		case t.typ == tokWord && (p.peek().typ == tokEquals || (p.peek().typ == tokWord && p.peek().val == "in" && p.peekN(1).typ == tokLParen)):
			c, err := p.parseCondValue(t)
			if err != nil {
				return nil, err
			}
			r.Conds = append(r.Conds, c)
		case t.typ == tokWord && !mountLike && r.Access == nil && r.Conds == nil && r.Args == nil && !isPathStart(t.val):
			r.Access = []string{t.val}
		case isValue(t):
			r.Args = append(r.Args, value(t))
		default:
			return nil, p.unexpected(t, "a "+kw.val+" condition or ','")
		}
	}
}

// parseChangeProfile parses `change_profile [safe|unsafe] [EXEC] [-> PROFILE ...],`.
func (p *parser) parseChangeProfile(start int, q profiles.Qualifiers) (profiles.Node, error) {
	p.next()
	r := &profiles.ChangeProfileRule{Q: q}
	arrow := false
	for {
		t := p.next()
		switch {
		case t.typ == tokComma:
			r.Meta = p.meta(start, t)
			return r, nil
		case t.typ == tokArrow && !arrow:
			arrow = true
		case isValue(t) && arrow:
			r.Targets = append(r.Targets, value(t))
		case t.typ == tokWord && (t.val == "safe" || t.val == "unsafe") && r.Mode == "" && r.Exec == "":
			r.Mode = t.val
		case isValue(t) && r.Exec == "":
			r.Exec = value(t)
		default:
			return nil, p.unexpected(t, "an exec path, '->' and profile, or ','")
		}
	}
}

// parseRlimit parses `set rlimit RESOURCE <= VALUE,`.
func (p *parser) parseRlimit(start int, q profiles.Qualifiers) (profiles.Node, error) {
	p.next()
	if t := p.next(); t.typ != tokWord || t.val != "rlimit" {
		return nil, p.unexpected(t, "'rlimit' after 'set'")
	}
	if q != (profiles.Qualifiers{}) {
		return nil, p.errorf(start, "rlimit rules take no qualifiers")
	}
	res, err := p.expect(tokWord, "an rlimit resource")
	if err != nil {
		return nil, err
	}
	if _, err := p.expect(tokLessEq, "'<=' after the rlimit resource"); err != nil {
		return nil, err
	}
	var vals []string
	for {
		t := p.next()
		switch {
		case t.typ == tokComma:
			if len(vals) == 0 {
				return nil, p.errorf(t.off, "missing rlimit value")
			}
			return &profiles.RlimitRule{Meta: p.meta(start, t), Resource: res.val, Value: strings.Join(vals, " ")}, nil
		case isValue(t):
			vals = append(vals, value(t))
		default:
			return nil, p.unexpected(t, "an rlimit value or ','")
		}
	}
}

// parseLink parses `link [subset] PATH -> TARGET,`.
func (p *parser) parseLink(start int, q profiles.Qualifiers) (profiles.Node, error) {
	p.next()
	r := &profiles.LinkRule{Q: q}
	t := p.next()
	if t.typ == tokWord && t.val == "subset" {
		r.Subset = true
		t = p.next()
	}
	if !isValue(t) {
		return nil, p.unexpected(t, "the link path")
	}
	r.Path = value(t)
	if _, err := p.expect(tokArrow, "'->' in link rule"); err != nil {
		return nil, err
	}
	t = p.next()
	if !isValue(t) {
		return nil, p.unexpected(t, "the link target")
	}
	r.Target = value(t)
	end, err := p.expectComma("link rule")
	if err != nil {
		return nil, err
	}
	r.Meta = p.meta(start, end)
	return r, nil
}

// parseFileRule parses `[file] PATH PERMS [-> TARGET],`, the
// permissions-first form `[file] PERMS PATH [-> TARGET],` and a bare
// `file,`. keyword is true when the next token is "file".
func (p *parser) parseFileRule(start int, q profiles.Qualifiers, keyword bool) (profiles.Node, error) {
	r := &profiles.FileRule{Q: q, FileKeyword: keyword}
	if keyword {
		p.next()
		if t := p.peek(); t.typ == tokComma {
			p.next()
			r.Meta = p.meta(start, t)
			return r, nil
		}
	}
	first := p.next()
	if !isValue(first) {
		return nil, p.unexpected(first, "a path or permissions")
	}
	var permTok token
	if first.typ == tokWord && !isPathStart(first.val) && isPerms(first.val) {
		// Permissions first.
		r.PermsFirst = true
		permTok = first
		path := p.next()
		if !isValue(path) {
			return nil, p.unexpected(path, "a path after the permissions")
		}
		r.Path = value(path)
	} else {
		r.Path = value(first)
		permTok = p.next()
		if permTok.typ != tokWord {
			return nil, p.unexpected(permTok, "permissions after the path")
		}
	}
	perms, exec, err := parsePerms(permTok.val)
	if err != nil {
		return nil, p.errorf(permTok.off, "%v", err)
	}
	r.Perms, r.Exec = perms, exec
	if p.peek().typ == tokArrow {
		p.next()
		t := p.next()
		if !isValue(t) {
			return nil, p.unexpected(t, "a target after '->'")
		}
		r.Target = value(t)
	}
	end, err := p.expectComma("file rule")
	if err != nil {
		return nil, err
	}
	r.Meta = p.meta(start, end)
	return r, nil
}
