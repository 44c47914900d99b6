package volatile

// This file turns the distinct names of one position into groups by shape:
// the tokens each name splits into, the keys that tell families apart, and
// the glob that covers a family.

import (
	"slices"
	"strconv"
	"strings"
)

// tokenized is one distinct name of a position, split into tokens.
type tokenized struct {
	name string
	toks []Token
}

// strictKey is the tokens with shaped ones replaced by their shape: names
// with equal keys differ only in shaped tokens. Counters and epochs share
// a key (an epoch is a number), as do hex runs and hashes.
func strictKey(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		if t.Shape == "" {
			b.WriteString(t.Text)
			continue
		}
		b.WriteByte(0)
		switch t.Shape {
		case Epoch:
			b.WriteString(string(Counter))
		case Hash:
			b.WriteString(string(Hex))
		case DateTime:
			b.WriteString(layout(t.Text))
		default:
			b.WriteString(string(t.Shape))
		}
		b.WriteByte(0)
	}
	return b.String()
}

// hexKey is the name with every run of hex digits (letters a-f, digits or
// both) replaced by its length; seen says a run has a digit and a letter.
// Names with equal keys, one of them seen, are one family of hex names
// (data/3f, data/a7, data/42, data/ff).
func hexKey(name string) (key string, seen bool) {
	var b strings.Builder
	for i, j := 0, 0; i < len(name); i = j {
		j = tokenEnd(name, i)
		run := name[i:j]
		if isHexRun(run) {
			seen = true
		}
		if isHexRun(run) || allDigits(run) || allHexLetters(run) {
			b.WriteByte(0)
			b.WriteString(strconv.Itoa(len(run)))
		} else {
			b.WriteString(run)
		}
	}
	return b.String(), seen
}

func allHexLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return s != ""
}

// layout is a date-time's form with its digits as '9'.
func layout(s string) string {
	b := []byte(s)
	for i, c := range b {
		if isDigit(c) {
			b[i] = '9'
		}
	}
	return string(b)
}

// shapeGroups groups names of equal shape and proposes each group's
// component pattern; names no shape generalises are returned as lits.
func (w *walker) shapeGroups(c ctx, depth int, names []string) (out []group, lits []string) {
	temp := c.temp()
	byHex := map[string][]string{}
	hexSeen := map[string]bool{}
	var hexOrder []string
	var rest []string
	for _, n := range names {
		if hasShape(Classify(n), UUID, DateTime, Epoch, Mktemp) {
			rest = append(rest, n)
			continue
		}
		k, seen := hexKey(n)
		if byHex[k] == nil {
			hexOrder = append(hexOrder, k)
		}
		byHex[k] = append(byHex[k], n)
		hexSeen[k] = hexSeen[k] || seen
	}
	for _, k := range hexOrder {
		ns := byHex[k]
		if len(ns) < 2 || !hexSeen[k] {
			rest = append(rest, ns...)
			continue
		}
		if g, ok := hexGroup(ns, depth); ok {
			out = append(out, g)
		} else {
			lits = append(lits, ns...)
		}
	}
	byKey := map[string][]tokenized{}
	var keys []string
	for _, n := range rest {
		toks := Classify(n)
		k := strictKey(toks)
		if byKey[k] == nil {
			keys = append(keys, k)
		}
		byKey[k] = append(byKey[k], tokenized{n, toks})
	}
	slices.Sort(keys)
	for _, k := range keys {
		gs, l := shapeGroup(byKey[k], temp, depth)
		out = append(out, gs...)
		lits = append(lits, l...)
	}
	slices.Sort(lits)
	return out, lits
}

// hexGroup is the component pattern of names that differ only in runs of
// hex digits.
func hexGroup(names []string, depth int) (group, bool) {
	n := names[0]
	var ps []Piece
	// Fixed runs are those equal in every name.
	for i, j := 0, 0; i < len(n); i = j {
		j = tokenEnd(n, i)
		run := n[i:j]
		if !isAlnum(run[0]) {
			ps = append(ps, Piece{Text: run})
			continue
		}
		vals := make([]string, len(names))
		same := true
		for k, m := range names {
			vals[k] = m[i:j]
			same = same && vals[k] == run
		}
		if same || !(isHexRun(run) || allDigits(run) || allHexLetters(run)) {
			ps = append(ps, Piece{Text: run})
		} else {
			ps = append(ps, Piece{Text: hexClass(vals) + "*", Glob: true})
		}
	}
	if depth == 1 && !hasFixed(ps) {
		return group{}, false
	}
	return group{names: names, pieces: ps, ctx: shapeCtx(Hex), shapes: []Shape{Hex}}, true
}

func hasShape(toks []Token, shapes ...Shape) bool {
	for _, t := range toks {
		if slices.Contains(shapes, t.Shape) {
			return true
		}
	}
	return false
}

func hasFixed(ps []Piece) bool {
	for _, p := range ps {
		if !p.Glob && p.Text != "" {
			return true
		}
	}
	return false
}

// shapeGroup proposes the pattern of names with one strict key: a glob
// where the names differ, or where one name's shape alone is volatile;
// the fixed tokens and shaped ones that do not vary stay literal. Names it
// cannot generalise are returned as lits.
func shapeGroup(ns []tokenized, temp bool, depth int) ([]group, []string) {
	first := ns[0].toks
	var ps []Piece
	var shapes []Shape
	for i, t := range first {
		if t.Shape == "" {
			ps = append(ps, Piece{Text: t.Text})
			continue
		}
		vals := make([]string, len(ns))
		distinct := false
		for k, n := range ns {
			vals[k] = n.toks[i].Text
			distinct = distinct || vals[k] != vals[0]
		}
		if !distinct && !t.alone(temp) {
			ps = append(ps, Piece{Text: t.Text})
			continue
		}
		s := t.Shape
		for _, n := range ns {
			if n.toks[i].Shape != s && s == Epoch {
				s = Counter // an epoch among counters is a counter
			}
		}
		ps = append(ps, Piece{Text: globFor(s, vals), Glob: true})
		if !slices.Contains(shapes, s) {
			shapes = append(shapes, s)
		}
	}
	if len(shapes) == 0 || depth == 1 && !hasFixed(ps) {
		lits := make([]string, len(ns))
		for i, n := range ns {
			lits[i] = n.name
		}
		return nil, lits
	}
	names := make([]string, len(ns))
	for i, n := range ns {
		names[i] = n.name
	}
	return []group{{names: names, pieces: ps, ctx: shapeCtx(shapes[0]), shapes: shapes}}, nil
}

// globFor is the glob for one shaped position given every value seen
// there: the narrowest of aa-flow's forms that matches them all.
func globFor(s Shape, vals []string) string {
	switch s {
	case Counter, Epoch, UID:
		return "[0-9]*"
	case DateTime:
		l := layout(vals[0])
		for _, v := range vals[1:] {
			if layout(v) != l {
				return "[0-9]*"
			}
		}
		return strings.ReplaceAll(l, "9", "[0-9]")
	case UUID:
		c := hexClass(vals)
		return c + "*-" + c + "*-" + c + "*-" + c + "*-" + c + "*"
	case Hex, Hash:
		return hexClass(vals) + "*"
	case Mktemp:
		n := len(vals[0])
		for _, v := range vals[1:] {
			if len(v) != n {
				return "*"
			}
		}
		return strings.Repeat("?", n)
	case Rotation, Version:
		return ".[0-9]*"
	}
	return "*"
}

// hexClass is the byte class of the hex digits in vals.
func hexClass(vals []string) string {
	var lower, upper bool
	for _, v := range vals {
		lower = lower || strings.ContainsAny(v, "abcdef")
		upper = upper || strings.ContainsAny(v, "ABCDEF")
	}
	switch {
	case lower && upper:
		return "[0-9A-Fa-f]"
	case upper:
		return "[0-9A-F]"
	}
	return "[0-9a-f]"
}

// unshaped groups the names no shape generalised. With TreeMin or more
// subdirectories that have files of their own, below a directory that is
// not top-level, they become one DIR/** tree (evidence in several distinct
// subdirectories). Otherwise, SiblingMin or more files (names with nothing
// below them) become one pattern: their common prefix and suffix (whole
// tokens) stay, '*' goes between. The rest stay literal.
func (w *walker) unshaped(depth int, lits []string, byName *runs) []group {
	var files, dirs, out []group
	var fnames []string
	for _, n := range lits {
		file := n != ""
		for _, m := range byName.of(n) {
			file = file && w.last(m)
		}
		g := group{names: []string{n}, pieces: []Piece{{Text: n}}, ctx: n}
		switch {
		case file:
			fnames = append(fnames, n)
			files = append(files, g)
		case n != "":
			dirs = append(dirs, g)
		default:
			out = append(out, g)
		}
	}
	if w.opt.TreeMin > 0 && depth >= 2 && len(dirs) >= w.opt.TreeMin {
		var all []string
		for _, g := range append(files, dirs...) {
			all = append(all, g.names...)
		}
		slices.Sort(all)
		return append(out, group{names: all, pieces: []Piece{{Text: "**", Glob: true}}, shapes: []Shape{Tree}, tree: true})
	}
	out = append(out, dirs...)
	if w.opt.SiblingMin > 0 && len(fnames) >= w.opt.SiblingMin {
		pre, suf := commonEnds(fnames)
		if depth > 1 || pre != "" || suf != "" {
			ps := []Piece{{Text: pre}, {Text: "*", Glob: true}, {Text: suf}}
			return append(out, group{names: fnames, pieces: ps, ctx: shapeCtx(Siblings), shapes: []Shape{Siblings}})
		}
	}
	return append(out, files...)
}

// commonEnds is the longest prefix and suffix, in whole tokens (runs of
// letters and digits, single other bytes), that every name shares and
// that do not overlap in any name.
func commonEnds(names []string) (string, string) {
	split := func(s string) []string {
		var out []string
		for i, j := 0, 0; i < len(s); i = j {
			j = tokenEnd(s, i)
			out = append(out, s[i:j])
		}
		return out
	}
	toks := make([][]string, len(names))
	minLen := -1
	for i, n := range names {
		toks[i] = split(n)
		if minLen < 0 || len(toks[i]) < minLen {
			minLen = len(toks[i])
		}
	}
	p := 0
	for p < minLen && allEqual(toks, func(t []string) string { return t[p] }) {
		p++
	}
	s := 0
	for s < minLen-p && allEqual(toks, func(t []string) string { return t[len(t)-1-s] }) {
		s++
	}
	first := toks[0]
	return strings.Join(first[:p], ""), strings.Join(first[len(first)-s:], "")
}

func allEqual(toks [][]string, at func([]string) string) bool {
	v := at(toks[0])
	for _, t := range toks[1:] {
		if at(t) != v {
			return false
		}
	}
	return true
}

// joinPieces merges neighbouring pieces of the same kind and drops empty
// ones.
func joinPieces(ps []Piece) []Piece {
	var out []Piece
	for _, p := range ps {
		if p.Text == "" {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Glob == p.Glob {
			out[n-1].Text += p.Text
			continue
		}
		out = append(out, p)
	}
	return out
}
