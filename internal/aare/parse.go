package aare

import (
	"errors"
	"fmt"
	"strings"
)

type op int

const (
	opSeq  op = iota // kids in order
	opAlt            // one of kids
	opSet            // one byte from set
	opStar           // any run of bytes from set
)

type node struct {
	op         op
	kids       []node
	set        byteSet
	lit        int  // opSet: the byte when the set is one literal byte, else -1
	atLeastOne bool // opStar right after a literal '/': one non-'/' byte first
}

type parser struct {
	src      string
	pos      int
	collapse bool // paths: "//" reads as "/"
}

func (p *parser) errf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", p.pos, fmt.Sprintf(format, args...))
}

// parseSeq parses a sequence up to the end of input or, inside an
// alternation (depth > 0), up to an unescaped ',' or '}'.
func (p *parser) parseSeq(depth int) (node, error) {
	seq := node{op: opSeq}
	prevSlash := false    // the previous element is a literal '/'
	prevRawSlash := false // ... written unescaped: "//" collapses to "/"
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		if c != '/' {
			prevRawSlash = false
		}
		switch c {
		case ',':
			if depth > 0 {
				return seq, nil
			}
			p.pos++
			seq.kids = append(seq.kids, litNode(c))
			prevSlash = false
			continue
		case '}':
			if depth > 0 {
				return seq, nil
			}
			return seq, p.errf("'}' without '{'")
		case '{':
			p.pos++
			alt, err := p.parseAlt(depth + 1)
			if err != nil {
				return seq, err
			}
			seq.kids = append(seq.kids, alt)
			prevSlash = false
			continue
		case '[':
			n, err := p.parseClass()
			if err != nil {
				return seq, err
			}
			seq.kids = append(seq.kids, n)
			prevSlash = false
			continue
		case ']':
			return seq, p.errf("']' without '['")
		case '*':
			p.pos++
			set := anyButSlash()
			if p.pos < len(p.src) && p.src[p.pos] == '*' {
				p.pos++
				set = anyButNUL()
			}
			// apparmor_parser makes * and ** match at least one byte only
			// when they are a whole path component: right after a '/' and
			// followed (past any further stars) by '/' or the pattern's end.
			rest := strings.TrimLeft(p.src[p.pos:], "*")
			whole := prevSlash && (rest == "" || rest[0] == '/')
			seq.kids = append(seq.kids, node{op: opStar, set: set, lit: -1, atLeastOne: whole})
			prevSlash = false
			continue
		case '?':
			p.pos++
			seq.kids = append(seq.kids, node{op: opSet, set: anyButSlash(), lit: -1})
			prevSlash = false
			continue
		case '@':
			if p.pos+1 < len(p.src) && p.src[p.pos+1] == '{' {
				return seq, p.errf("unexpanded variable")
			}
		case '\\':
			b, err := p.parseEscape()
			if err != nil {
				return seq, err
			}
			seq.kids = append(seq.kids, litNode(b))
			prevSlash = b == '/'
			continue
		case 0:
			return seq, p.errf("NUL byte")
		case '/':
			p.pos++
			if !prevRawSlash || !p.collapse {
				seq.kids = append(seq.kids, litNode(c))
			}
			prevSlash, prevRawSlash = true, true
			continue
		}
		p.pos++
		seq.kids = append(seq.kids, litNode(c))
		prevSlash = false
	}
	if depth > 0 {
		return seq, errors.New("unclosed '{'")
	}
	return seq, nil
}

func litNode(c byte) node { return node{op: opSet, set: single(c), lit: int(c)} }

// parseAlt parses the branches of {a,b,...} after the '{'.
func (p *parser) parseAlt(depth int) (node, error) {
	alt := node{op: opAlt}
	for {
		br, err := p.parseSeq(depth)
		if err != nil {
			return alt, err
		}
		alt.kids = append(alt.kids, br)
		if p.pos >= len(p.src) {
			return alt, errors.New("unclosed '{'")
		}
		c := p.src[p.pos]
		p.pos++
		if c == '}' {
			break
		}
	}
	if len(alt.kids) == 1 {
		// apparmor_parser: "Invalid number of items between {}"
		return alt, p.errf("'{}' needs at least two alternatives")
	}
	return alt, nil
}

// parseEscape reads a backslash escape at p.pos: \xHH, \dNNN (decimal),
// \NNN (octal) or \C for the literal byte C.
func (p *parser) parseEscape() (byte, error) {
	p.pos++ // the backslash
	if p.pos >= len(p.src) {
		return 0, p.errf("trailing '\\'")
	}
	c := p.src[p.pos]
	num := func(base, maxDigits int) (byte, bool) {
		v, n := 0, 0
		for n < maxDigits && p.pos+n < len(p.src) {
			d := digitVal(p.src[p.pos+n], base)
			if d < 0 {
				break
			}
			v = v*base + d
			n++
		}
		if n == 0 || v > 255 || v == 0 {
			return 0, false
		}
		p.pos += n
		return byte(v), true
	}
	switch {
	case c == 'x':
		p.pos++
		if b, ok := num(16, 2); ok {
			return b, nil
		}
		return 'x', nil
	case c == 'd':
		p.pos++
		if b, ok := num(10, 3); ok {
			return b, nil
		}
		return 'd', nil
	case c >= '0' && c <= '7':
		if b, ok := num(8, 3); ok {
			return b, nil
		}
		return 0, p.errf("bad octal escape")
	}
	p.pos++
	return c, nil
}

func digitVal(c byte, base int) int {
	var d int
	switch {
	case c >= '0' && c <= '9':
		d = int(c - '0')
	case c >= 'a' && c <= 'f':
		d = int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		d = int(c-'A') + 10
	default:
		return -1
	}
	if d >= base {
		return -1
	}
	return d
}

// parseClass parses [...] or [^...] at p.pos.
func (p *parser) parseClass() (node, error) {
	start := p.pos
	p.pos++ // '['
	neg := false
	if p.pos < len(p.src) && p.src[p.pos] == '^' {
		neg = true
		p.pos++
	}
	var set byteSet
	first := true
	for {
		if p.pos >= len(p.src) {
			p.pos = start
			return node{}, p.errf("unclosed '['")
		}
		c := p.src[p.pos]
		if c == ']' {
			if first {
				return node{}, p.errf("empty '[]'")
			}
			p.pos++
			break
		}
		first = false
		if c == '?' || c == '*' {
			// apparmor_parser rewrites these even inside a class ([?]
			// becomes [[^/\x00]], a different class followed by a
			// literal ']'); we refuse to guess what such a rule means.
			return node{}, p.errf("'%c' inside [...] is rewritten by apparmor_parser into a different expression; escape it (\\%c)", c, c)
		}
		lo, err := p.classByte()
		if err != nil {
			return node{}, err
		}
		if p.pos+1 < len(p.src) && p.src[p.pos] == '-' && p.src[p.pos+1] == ']' {
			return node{}, p.errf("'-' at the end of a class (apparmor_parser rejects it)")
		}
		if p.pos+1 < len(p.src) && p.src[p.pos] == '-' {
			p.pos++
			hi, err := p.classByte()
			if err != nil {
				return node{}, err
			}
			if hi < lo {
				return node{}, p.errf("bad range %q-%q", lo, hi)
			}
			set.addRange(lo, hi)
			continue
		}
		set.add(lo)
	}
	if neg {
		set = set.invert()
	}
	set = set.and(anyButNUL())
	if set.empty() {
		return node{}, p.errf("class matches nothing")
	}
	n := node{op: opSet, set: set, lit: -1}
	return n, nil
}

func (p *parser) classByte() (byte, error) {
	c := p.src[p.pos]
	if c == '\\' {
		return p.parseEscape()
	}
	if c == 0 {
		return 0, p.errf("NUL byte")
	}
	p.pos++
	return c, nil
}
