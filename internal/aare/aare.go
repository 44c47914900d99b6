// Package aare compiles AppArmor globs (AppArmor regular expressions, "AARE")
// into small automata and answers two questions about them: does a glob match
// a path, and can two globs match a common path.
//
// The semantics are apparmor_parser's: tests run the DFA apparmor_parser
// builds (its -D dfa-states dump, what the kernel executes) on generated
// globs, and compare with python3-apparmor's aare module as a second,
// independent opinion:
//
//   - '*' matches any run of bytes except '/', '**' any run including '/'.
//     When the stars are a whole path component (a literal '/' before them,
//     '/' or the pattern's end after them) they must match at least one
//     byte, and that first byte is not '/': /dir/* and /dir/** never match
//     /dir/ itself, while /dir/*.conf does match /dir/.conf. '*' matches
//     names that start with '.', unlike a shell.
//   - '?' matches one byte except '/'.
//   - [abc], [a-c], [^a-c] are byte classes; a negated class may match '/'.
//     '?' and '*' inside a class are refused: apparmor_parser rewrites them
//     into a different expression.
//   - {a,b} is an alternation; alternations nest and may have empty
//     branches ({,x}).
//   - '\' makes the next byte literal (\* is a star, \{ a brace).
//   - No pattern byte ever matches NUL.
//
// Variables (@{NAME}) must be expanded before compiling: the package refuses
// them. Compiling is linear in the pattern; matching is linear in the path
// (a Thompson NFA simulation over precomputed closures), so '**'-heavy
// patterns cannot explode.
package aare

import (
	"fmt"
	"math/bits"
	"strings"
)

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) addRange(lo, hi byte) {
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}
func (s byteSet) invert() byteSet { return byteSet{^s[0], ^s[1], ^s[2], ^s[3]} }
func (s byteSet) and(o byteSet) byteSet {
	return byteSet{s[0] & o[0], s[1] & o[1], s[2] & o[2], s[3] & o[3]}
}
func (s byteSet) empty() bool { return s[0]|s[1]|s[2]|s[3] == 0 }

func single(c byte) byteSet {
	var s byteSet
	s.add(c)
	return s
}

// anyButNUL matches every byte but NUL; anyButSlash excludes '/' too.
func anyButNUL() byteSet   { return single(0).invert() }
func anyButSlash() byteSet { return anyButNUL().and(single('/').invert()) }

// state is one NFA state: a consuming transition on set to out (when set is
// not empty) and epsilon moves to eps.
type state struct {
	set byteSet
	out int
	eps []int
}

// Glob is a compiled AppArmor glob. It is immutable and safe for concurrent
// use.
type Glob struct {
	pattern string
	states  []state
	start   int
	accept  int
	// closureList[i] is the epsilon closure of state i: the consuming
	// states (and the accepting state) reachable without input.
	closureList [][]int
	words       int  // uint64 words in a state set
	literal     bool // the pattern has no glob syntax: it matches one path
	lit         string
	prefix      string // every match starts with prefix
}

// String returns the pattern the glob was compiled from.
func (g *Glob) String() string { return g.pattern }

// Literal returns the single path the glob matches when it has no glob
// syntax at all (escapes removed), and false otherwise.
func (g *Glob) Literal() (string, bool) { return g.lit, g.literal }

// MaxPattern is the longest pattern Compile accepts (after variable
// expansion), bounding the automaton's size.
const MaxPattern = 64 << 10

// Compile parses an AppArmor glob. Errors name the byte offset.
func Compile(pattern string) (*Glob, error) {
	if len(pattern) > MaxPattern {
		return nil, fmt.Errorf("glob %.40q...: longer than %d bytes", pattern, MaxPattern)
	}
	return compile(pattern, true)
}

// CompileName compiles a glob over names that are not paths (profile and
// peer labels, D-Bus names): as Compile, but "//" is kept, since it
// separates a profile from its child ("svc//child").
func CompileName(pattern string) (*Glob, error) {
	if len(pattern) > MaxPattern {
		return nil, fmt.Errorf("glob %.40q...: longer than %d bytes", pattern, MaxPattern)
	}
	return compile(pattern, false)
}

func compile(pattern string, collapse bool) (*Glob, error) {
	p := &parser{src: pattern, collapse: collapse}
	tree, err := p.parseSeq(0)
	if err != nil {
		return nil, fmt.Errorf("glob %q: %w", pattern, err)
	}
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("glob %q: offset %d: unexpected %q", pattern, p.pos, p.src[p.pos])
	}
	g := &Glob{pattern: pattern}
	g.accept = g.newState()
	g.start = g.build(tree, g.accept)
	g.computeClosures()
	if lit, ok := literalOf(tree); ok {
		g.literal, g.lit = true, lit
	}
	g.prefix = prefixOf(tree)
	return g, nil
}

func (g *Glob) newState() int {
	g.states = append(g.states, state{out: -1})
	return len(g.states) - 1
}

// build compiles n so that it continues to next, returning the entry state.
func (g *Glob) build(n node, next int) int {
	switch n.op {
	case opSeq:
		for i := len(n.kids) - 1; i >= 0; i-- {
			next = g.build(n.kids[i], next)
		}
		return next
	case opAlt:
		s := g.newState()
		eps := make([]int, 0, len(n.kids))
		for _, k := range n.kids {
			eps = append(eps, g.build(k, next))
		}
		g.states[s].eps = eps
		return s
	case opSet:
		s := g.newState()
		g.states[s].set, g.states[s].out = n.set, next
		return s
	case opStar:
		loop := g.newState()
		g.states[loop].set, g.states[loop].out = n.set, loop
		g.states[loop].eps = []int{next}
		if !n.atLeastOne {
			return loop
		}
		first := g.newState()
		g.states[first].set, g.states[first].out = anyButSlash(), loop
		return first
	}
	return next
}

func (g *Glob) computeClosures() {
	n := len(g.states)
	words := (n + 63) / 64
	g.words = words
	g.closureList = make([][]int, n)
	mark := make([]int, n) // mark[s] == i+1: s already in closure i
	stack := make([]int, 0, 16)
	for i := range g.states {
		var list []int
		stack = append(stack[:0], i)
		mark[i] = i + 1
		for len(stack) > 0 {
			s := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			// only consuming states and the accepting state matter in a
			// state set
			if g.states[s].out >= 0 || s == g.accept {
				list = append(list, s)
			}
			for _, e := range g.states[s].eps {
				if mark[e] != i+1 {
					mark[e] = i + 1
					stack = append(stack, e)
				}
			}
		}
		g.closureList[i] = list
	}
}

// Match reports whether the glob matches the whole of path.
func (g *Glob) Match(path string) bool {
	if g.literal {
		return path == g.lit
	}
	if !strings.HasPrefix(path, g.prefix) {
		return false // cheap reject: most rules fail on their literal start
	}
	words := g.words
	var buf [16]uint64
	var cur, nxt []uint64
	if 2*words <= len(buf) {
		cur, nxt = buf[:words], buf[words:2*words]
	} else {
		cur, nxt = make([]uint64, words), make([]uint64, words)
	}
	addAll(cur, g.closureList[g.start])
	for i := 0; i < len(path); i++ {
		c := path[i]
		clear(nxt)
		alive := false
		for w, word := range cur {
			for word != 0 {
				b := bits.TrailingZeros64(word)
				word &= word - 1
				st := &g.states[w*64+b]
				if st.out >= 0 && st.set.has(c) {
					addAll(nxt, g.closureList[st.out])
					alive = true
				}
			}
		}
		if !alive {
			return false
		}
		cur, nxt = nxt, cur
	}
	return cur[g.accept/64]&(1<<(g.accept%64)) != 0
}

func addAll(set []uint64, states []int) {
	for _, s := range states {
		set[s/64] |= 1 << (s % 64)
	}
}

// Overlaps reports whether some path is matched by both a and b. It is exact
// (a product of the two automata), so it answers "could a rule with pattern a
// grant access to something pattern b names".
func Overlaps(a, b *Glob) bool {
	n := min(len(a.prefix), len(b.prefix))
	if a.prefix[:n] != b.prefix[:n] {
		return false // they part ways before any glob operator
	}
	if a.literal {
		return b.Match(a.lit)
	}
	if b.literal {
		return a.Match(b.lit)
	}
	type pair struct{ x, y int }
	nb := len(b.states)
	seen := make([]bool, len(a.states)*nb)
	var queue []pair
	push := func(ca, cb []int) {
		for _, x := range ca {
			for _, y := range cb {
				if !seen[x*nb+y] {
					seen[x*nb+y] = true
					queue = append(queue, pair{x, y})
				}
			}
		}
	}
	push(a.closureList[a.start], b.closureList[b.start])
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p.x == a.accept && p.y == b.accept {
			return true
		}
		sa, sb := &a.states[p.x], &b.states[p.y]
		if sa.out < 0 || sb.out < 0 || sa.set.and(sb.set).empty() {
			continue
		}
		push(a.closureList[sa.out], b.closureList[sb.out])
	}
	return false
}

// Match compiles pattern and matches path against it, for one-off use; use a
// Cache when the same patterns are matched repeatedly.
func Match(pattern, path string) (bool, error) {
	g, err := Compile(pattern)
	if err != nil {
		return false, err
	}
	return g.Match(path), nil
}

// HasGlob reports whether pattern contains unescaped glob syntax.
func HasGlob(pattern string) bool {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case '*', '?', '[', '{':
			return true
		}
	}
	return false
}

// prefixOf returns the literal bytes every match of the tree starts with.
func prefixOf(n node) string {
	var b strings.Builder
	for _, k := range n.kids {
		if k.op != opSet || k.lit < 0 {
			break
		}
		b.WriteByte(byte(k.lit))
	}
	return b.String()
}

// literalOf returns the path a tree matches when it is a plain sequence of
// single bytes.
func literalOf(n node) (string, bool) {
	if n.op != opSeq {
		return "", false
	}
	var b strings.Builder
	for _, k := range n.kids {
		if k.op != opSet || k.lit < 0 {
			return "", false
		}
		b.WriteByte(byte(k.lit))
	}
	return b.String(), true
}
