package volatile

import (
	"slices"
	"strings"
)

// Piece is part of a pattern: literal text, which the caller escapes so
// that it matches only itself, or glob text from this package, written as
// is.
type Piece struct {
	Text string
	Glob bool
}

// Name is one distinct logged path.
type Name struct {
	Path string
	// Owner: every record for the path had fsuid == ouid (the task owned
	// the file).
	Owner bool
}

// Family is names that one pattern covers.
type Family struct {
	// Pieces spell the pattern; all literal for a name that stays literal.
	Pieces []Piece
	// Members are the indexes of the names the pattern covers, in input
	// order.
	Members []int
	// Shapes are the shapes the pattern generalises, outermost first.
	Shapes []Shape
}

// Glob reports whether the family's pattern has a glob piece.
func (f Family) Glob() bool {
	for _, p := range f.Pieces {
		if p.Glob {
			return true
		}
	}
	return false
}

// Options tune Infer.
type Options struct {
	// HasVar reports whether the profile defines a variable (by name
	// without @{ }): PROC, pid, tid, HOME, uid are used when it does,
	// plain globs otherwise. Nil: none is defined.
	HasVar func(name string) bool
	// SiblingMin is how many unshaped files of one directory become one
	// pattern (their common prefix and suffix kept, '*' between); 0 or
	// less: never.
	SiblingMin int
	// TreeMin is how many distinct subdirectories of one directory, each
	// with files of their own, make a '**' tree: DIR/** covers them all.
	// 0 or less: never. Shaped families are tried first: a tree is only
	// for what per-component patterns could not cover.
	TreeMin int
}

// Infer groups distinct names into families and proposes a pattern for
// each (see the package comment). Every name is a member of exactly one
// family; a name no inference applies to is a family of its own with a
// literal pattern. Names must be absolute paths (a trailing '/' names a
// directory). The result is ordered by pattern text.
func Infer(names []Name, opt Options) []Family {
	w := &walker{opt: opt, names: names, pos: make([]int32, len(names))}
	var all []int
	for i, n := range names {
		if !strings.HasPrefix(n.Path, "/") {
			w.out = append(w.out, Family{Pieces: []Piece{{Text: n.Path}}, Members: []int{i}})
			continue
		}
		w.pos[i] = 1
		all = append(all, i)
	}
	w.node(nil, nil, all, 0, nil)
	for i := range w.out {
		w.out[i].Pieces = joinPieces(w.out[i].Pieces)
	}
	slices.SortStableFunc(w.out, func(a, b Family) int { return strings.Compare(PatternKey(a.Pieces), PatternKey(b.Pieces)) })
	return w.out
}

// PatternKey writes pieces as one string that tells literal from glob
// text (for ordering and map keys, not for a profile).
func PatternKey(ps []Piece) string {
	var b strings.Builder
	for _, p := range ps {
		if p.Glob {
			b.WriteByte(0)
		}
		b.WriteString(p.Text)
	}
	return b.String()
}

type walker struct {
	opt   Options
	names []Name
	// pos is where each name's component at the walk's depth starts in
	// its path; past the end when it has no more components (see comp).
	pos []int32
	out []Family
}

// comp is name m's component at the walk's depth: its path between the
// slashes, not a copy ("" after a trailing '/').
func (w *walker) comp(m int) string {
	rest := w.names[m].Path[w.pos[m]:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// ended reports whether name m has no component at the walk's depth.
func (w *walker) ended(m int) bool { return int(w.pos[m]) > len(w.names[m].Path) }

// last reports whether name m's component at the walk's depth is its last.
func (w *walker) last(m int) bool {
	return !w.ended(m) && strings.IndexByte(w.names[m].Path[w.pos[m]:], '/') < 0
}

// after is what follows name m's component at the walk's depth and its
// slash ("" when it is the last).
func (w *walker) after(m int) string {
	rest := w.names[m].Path[w.pos[m]:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i+1:]
	}
	return ""
}

// descend moves name m's walk on to its next component.
func (w *walker) descend(m int) {
	rest := w.names[m].Path[w.pos[m]:]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		w.pos[m] += int32(i + 1)
	} else {
		w.pos[m] = int32(len(w.names[m].Path) + 1)
	}
}

// runs are the members of one node by their next component: the distinct
// components in order, each one's members a run of the sorted members
// (no map and no slice of its own per name: a directory may hold a long
// log's every name).
type runs struct {
	order  []string
	start  []int32 // the run of order[i] is sorted[start[i]:start[i+1]]
	sorted []int
}

// of is the members whose next component is n.
func (r *runs) of(n string) []int {
	i, ok := slices.BinarySearch(r.order, n)
	if !ok {
		return nil
	}
	a, b := r.start[i], r.start[i+1]
	return r.sorted[a:b:b]
}

func (w *walker) hasVar(name string) bool { return w.opt.HasVar != nil && w.opt.HasVar(name) }

// ctx is what each component before the current one is: its literal
// text, or "\x00" and the shape it was generalised as.
type ctx []string

func shapeCtx(s Shape) string { return "\x00" + string(s) }

func (c ctx) is(vals ...string) bool {
	if len(c) != len(vals) {
		return false
	}
	for i, v := range vals {
		if c[i] != v {
			return false
		}
	}
	return true
}

// temp reports whether the next component is inside a temporary
// directory.
func (c ctx) temp() bool {
	switch {
	case len(c) >= 1 && c[0] == "tmp":
		return true
	case len(c) >= 2 && (c[0] == "var" && c[1] == "tmp" || c[0] == "dev" && c[1] == "shm"):
		return true
	case len(c) >= 3 && c[0] == "run" && c[1] == "user":
		return true
	}
	return false
}

// group is names of one position that one component pattern covers.
type group struct {
	names  []string
	pieces []Piece
	ctx    string
	shapes []Shape
	// prefix replaces the pattern so far (@{PROC}, @{HOME}).
	prefix []Piece
	// tree: the pattern (**) covers everything below; no further
	// components are looked at.
	tree bool
	// members, when set, are the members the group takes (of names that
	// are split between groups); otherwise every member of its names.
	members []int
}

// node infers the families of the members below prefix: those that end
// here are a family; the others are grouped by their next component.
func (w *walker) node(prefix []Piece, c ctx, members []int, depth int, shapes []Shape) {
	// members is this call's own (see below): the names that go on are
	// compacted into it, in order, and sorted there.
	nl := 0
	for _, m := range members {
		if w.ended(m) {
			nl++
		}
	}
	var leaves []int
	below := members
	if nl > 0 {
		leaves, below = make([]int, 0, nl), members[:0]
		for _, m := range members {
			if w.ended(m) {
				leaves = append(leaves, m)
			} else {
				below = append(below, m)
			}
		}
	}
	if len(leaves) > 0 {
		w.out = append(w.out, Family{Pieces: slices.Clone(prefix), Members: leaves, Shapes: slices.Clone(shapes)})
	}
	if len(below) == 0 {
		return
	}
	// The members by their next component, each name's members one run of
	// the sorted slice: no slice of its own per name. Each group's members
	// are a run of it or a slice of their own, which the group's call
	// reorders as its own.
	slices.SortStableFunc(below, func(a, b int) int { return strings.Compare(w.comp(a), w.comp(b)) })
	byName := &runs{sorted: below}
	for i := 0; i < len(below); {
		n := w.comp(below[i])
		j := i + 1
		for j < len(below) && w.comp(below[j]) == n {
			j++
		}
		byName.order = append(byName.order, n)
		byName.start = append(byName.start, int32(i))
		i = j
	}
	byName.start = append(byName.start, int32(len(below)))
	for _, g := range w.groups(c, depth, byName.order, byName) {
		ms := g.members
		if ms == nil {
			if len(g.names) == 1 {
				ms = byName.of(g.names[0])
			} else {
				n := 0
				for _, name := range g.names {
					n += len(byName.of(name))
				}
				ms = make([]int, 0, n)
				for _, name := range g.names {
					ms = append(ms, byName.of(name)...)
				}
			}
		}
		slices.Sort(ms)
		p := prefix
		if g.prefix != nil {
			p = g.prefix
		}
		np := append(slices.Clone(p), Piece{Text: "/"})
		np = append(np, g.pieces...)
		if g.prefix != nil && len(g.pieces) == 0 {
			np = slices.Clone(g.prefix)
		}
		sh := slices.Clone(shapes)
		for _, s := range g.shapes {
			if !slices.Contains(sh, s) {
				sh = append(sh, s)
			}
		}
		if g.tree {
			w.out = append(w.out, Family{Pieces: np, Members: ms, Shapes: sh})
			continue
		}
		for _, m := range ms {
			w.descend(m)
		}
		w.node(np, append(slices.Clone(c), g.ctx), ms, depth+1, sh)
	}
}

// groups partitions the distinct names of one position into component
// patterns.
func (w *walker) groups(c ctx, depth int, order []string, byName *runs) []group {
	var out []group
	literal := func(n string) group { return group{names: []string{n}, pieces: []Piece{{Text: n}}, ctx: n} }
	rest := order
	switch {
	case c.is("proc"), len(c) == 3 && c[0] == "proc" && c[1] == shapeCtx(PID) && c[2] == "task":
		// Per-process directories: volatile alone.
		var pids []string
		rest = nil
		for _, n := range order {
			if allDigits(n) && n[0] != '0' {
				pids = append(pids, n)
			} else {
				rest = append(rest, n)
			}
		}
		if len(pids) > 0 {
			g := group{names: pids, ctx: shapeCtx(PID), shapes: []Shape{PID}}
			v := "pid"
			if depth == 3 {
				v = "tid"
			}
			switch {
			case depth == 1 && w.hasVar("PROC") && w.hasVar("pid"):
				g.prefix = []Piece{{Text: "@{PROC}", Glob: true}}
				g.pieces = []Piece{{Text: "@{pid}", Glob: true}}
			case depth == 3 && w.hasVar(v):
				g.pieces = []Piece{{Text: "@{" + v + "}", Glob: true}}
			default:
				g.pieces = []Piece{{Text: "[1-9]*", Glob: true}}
			}
			out = append(out, g)
		}
	case c.is("home"):
		return w.homes(order, byName)
	case c.is("run", "user"):
		var uids []string
		rest = nil
		for _, n := range order {
			if allDigits(n) {
				uids = append(uids, n)
			} else {
				rest = append(rest, n)
			}
		}
		owner := w.allOwner(uids, byName)
		if len(uids) >= 2 || len(uids) == 1 && owner && w.hasVar("uid") {
			g := group{names: uids, ctx: shapeCtx(UID), shapes: []Shape{UID}, pieces: []Piece{{Text: "[0-9]*", Glob: true}}}
			if w.hasVar("uid") {
				g.pieces = []Piece{{Text: "@{uid}", Glob: true}}
			}
			out = append(out, g)
		} else {
			rest = order
		}
	}
	if depth == 0 {
		// A top-level directory is never generalised.
		for _, n := range rest {
			out = append(out, literal(n))
		}
		return out
	}
	shaped, lits := w.shapeGroups(c, depth, rest)
	out = append(out, shaped...)
	return append(out, w.unshaped(depth, lits, byName)...)
}

// allOwner reports whether every name below these was an owner access.
func (w *walker) allOwner(names []string, byName *runs) bool {
	for _, n := range names {
		for _, m := range byName.of(n) {
			if !w.names[m].Owner {
				return false
			}
		}
	}
	return true
}

// homes groups the users' directories under /home. Owner accesses (every
// record of the name had fsuid = ouid) go to @{HOME} when the profile has
// it: the rule then grants in every home only what the task's own user
// owns, which is what the records showed. Other
// accesses keep the user's name, except a path seen below two or more
// users' directories: that one becomes /home/*/PATH (and is rated by what
// it reaches). One user's file never becomes every user's.
func (w *walker) homes(order []string, byName *runs) []group {
	var out []group
	owned := group{ctx: shapeCtx(User), shapes: []Shape{User}, prefix: []Piece{{Text: "@{HOME}", Glob: true}}}
	isOwned := func(m int) bool {
		return w.hasVar("HOME") && w.names[m].Owner && !w.last(m)
	}
	users := map[string][]string{} // the rest of the path -> users
	for _, n := range order {
		if n == "" {
			continue
		}
		for _, m := range byName.of(n) {
			if isOwned(m) {
				continue
			}
			r := w.after(m)
			if u := users[r]; len(u) == 0 || u[len(u)-1] != n {
				users[r] = append(u, n)
			}
		}
	}
	shared := group{ctx: shapeCtx(User), shapes: []Shape{User}, pieces: []Piece{{Text: "*", Glob: true}}}
	for _, n := range order {
		own := group{names: []string{n}, pieces: []Piece{{Text: n}}, ctx: n}
		for _, m := range byName.of(n) {
			switch {
			case n != "" && isOwned(m):
				owned.members = append(owned.members, m)
			case n != "" && len(users[w.after(m)]) >= 2:
				shared.members = append(shared.members, m)
			default:
				own.members = append(own.members, m)
			}
		}
		if len(own.members) > 0 {
			out = append(out, own)
		}
	}
	for _, g := range []group{owned, shared} {
		if len(g.members) > 0 {
			out = append(out, g)
		}
	}
	return out
}
