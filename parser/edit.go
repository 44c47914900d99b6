package parser

import (
	"fmt"
	"sort"
)

// Edit replaces src[Start:End] with Text (an insertion when Start ==
// End). The spans the parser records (a profile's FlagSpans, Open, Close)
// say where.
type Edit struct {
	Start, End int
	Text       string
}

// Splice applies edits to src and returns the new text; src is not
// modified. Edits may come in any order but must not overlap (two
// insertions at one offset keep their order); an edit outside src is an
// error. It is the one way aa-flow edits policy text in place: the learner
// inserting rules, rollout rewriting flags.
func Splice(src []byte, edits []Edit) ([]byte, error) {
	es := append([]Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool { return es[i].Start < es[j].Start })
	out := make([]byte, 0, len(src))
	at := 0
	for _, e := range es {
		if e.Start < at || e.End < e.Start || e.End > len(src) {
			return nil, fmt.Errorf("edit [%d,%d) overlaps another or lies outside the text (%d bytes)", e.Start, e.End, len(src))
		}
		out = append(out, src[at:e.Start]...)
		out = append(out, e.Text...)
		at = e.End
	}
	return append(out, src[at:]...), nil
}
