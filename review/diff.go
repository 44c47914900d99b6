// Package review shows a learning proposal to a person and records their
// decisions: the unified diff of the profile file before and after the
// proposed rules, and the interactive accept / reject / literal review over
// an io.Reader and io.Writer (a terminal, or scripted answers in tests).
//
// Rule texts, evidence, explanations, held reasons and warnings are each one
// line, and much of them comes from records: a file name may hold a newline
// (the kernel hex-encodes it, the decoder restores the bytes). They are
// shown with termsafe.Escape, never termsafe.Text, so that no name can
// start a line of its own that reads as a rule aa-flow proposes. Only the
// diff's lines, already split, keep their tabs (termsafe.Text).
package review

import (
	"fmt"
	"strings"

	"github.com/aa-flow/aa-flow/internal/termsafe"
)

// Colours for the diff on a terminal.
const (
	colRed   = "\x1b[31m"
	colGreen = "\x1b[32m"
	colCyan  = "\x1b[36m"
	colBold  = "\x1b[1m"
	colDim   = "\x1b[2m"
	colReset = "\x1b[0m"
)

// maxDiffCells bounds the edit-distance table; beyond it the middle of the
// two texts is shown as removed and added wholesale.
const maxDiffCells = 16 << 20

// Unified returns the unified diff (3 lines of context) that turns old
// into new, with file names in the header; "" when they are equal. color
// adds ANSI colours.
func Unified(oldName, newName string, old, new []byte, color bool) string {
	a, b := splitLines(string(old)), splitLines(string(new))
	ops := diffLines(a, b)
	hunks := makeHunks(ops, 3)
	if len(hunks) == 0 {
		return ""
	}
	var w strings.Builder
	paint := func(c, s string) string {
		if !color {
			return s
		}
		return c + s + colReset
	}
	// Names in the profile come from logs: a terminal must not act on them
	// (escape sequences, bidirectional controls). The file keeps the bytes.
	w.WriteString(paint(colBold, "--- "+termsafe.Escape(oldName)) + "\n")
	w.WriteString(paint(colBold, "+++ "+termsafe.Escape(newName)) + "\n")
	for _, h := range hunks {
		w.WriteString(paint(colCyan, fmt.Sprintf("@@ -%s +%s @@", span(h.aStart, h.aLen), span(h.bStart, h.bLen))) + "\n")
		for _, o := range h.ops {
			switch o.kind {
			case ' ':
				w.WriteString(" " + termsafe.Text(o.text) + "\n")
			case '-':
				w.WriteString(paint(colRed, "-"+termsafe.Text(o.text)) + "\n")
			case '+':
				w.WriteString(paint(colGreen, "+"+termsafe.Text(o.text)) + "\n")
			}
		}
	}
	return w.String()
}

func span(start, n int) string {
	if n == 1 {
		return fmt.Sprintf("%d", start)
	}
	if n == 0 {
		return fmt.Sprintf("%d,0", start-1)
	}
	return fmt.Sprintf("%d,%d", start, n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

type op struct {
	kind byte // ' ', '-', '+'
	text string
}

// diffLines is a longest-common-subsequence line diff after trimming the
// common prefix and suffix.
func diffLines(a, b []string) []op {
	var ops []op
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		ops = append(ops, op{' ', a[pre]})
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	if (len(ma)+1)*(len(mb)+1) > maxDiffCells {
		for _, l := range ma {
			ops = append(ops, op{'-', l})
		}
		for _, l := range mb {
			ops = append(ops, op{'+', l})
		}
	} else {
		ops = append(ops, lcs(ma, mb)...)
	}
	for _, l := range a[len(a)-suf:] {
		ops = append(ops, op{' ', l})
	}
	return ops
}

func lcs(a, b []string) []op {
	n, m := len(a), len(b)
	// t[i][j] = LCS length of a[i:], b[j:]
	t := make([][]int32, n+1)
	for i := range t {
		t[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i][j] = t[i+1][j+1] + 1
			} else {
				t[i][j] = max(t[i+1][j], t[i][j+1])
			}
		}
	}
	var ops []op
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, op{' ', a[i]})
			i++
			j++
		case t[i+1][j] >= t[i][j+1]:
			ops = append(ops, op{'-', a[i]})
			i++
		default:
			ops = append(ops, op{'+', b[j]})
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, op{'-', a[i]})
	}
	for ; j < m; j++ {
		ops = append(ops, op{'+', b[j]})
	}
	return ops
}

type hunk struct {
	aStart, aLen, bStart, bLen int
	ops                        []op
	end                        int // index in the op list after the hunk
}

// makeHunks groups changes with ctx lines of context around them.
func makeHunks(ops []op, ctx int) []hunk {
	var hunks []hunk
	// positions (1-based line numbers) before each op
	type pos struct{ a, b int }
	ps := make([]pos, len(ops)+1)
	ai, bi := 1, 1
	for i, o := range ops {
		ps[i] = pos{ai, bi}
		if o.kind != '+' {
			ai++
		}
		if o.kind != '-' {
			bi++
		}
	}
	ps[len(ops)] = pos{ai, bi}
	i := 0
	for i < len(ops) {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		start := max(i-ctx, 0)
		if len(hunks) > 0 {
			// merge with the previous hunk when the context overlaps
			last := &hunks[len(hunks)-1]
			lastEnd := last.end
			if start <= lastEnd {
				start = lastEnd
				end := extend(ops, i, ctx)
				last.ops = append(last.ops, ops[start:end]...)
				last.end = end
				i = end
				continue
			}
		}
		end := extend(ops, i, ctx)
		hunks = append(hunks, hunk{aStart: ps[start].a, bStart: ps[start].b, ops: append([]op(nil), ops[start:end]...), end: end})
		i = end
	}
	for k := range hunks {
		h := &hunks[k]
		for _, o := range h.ops {
			if o.kind != '+' {
				h.aLen++
			}
			if o.kind != '-' {
				h.bLen++
			}
		}
	}
	return hunks
}

// extend returns the end (exclusive) of the change starting at i plus up to
// ctx lines of trailing context, continuing through changes closer than
// 2*ctx lines.
func extend(ops []op, i, ctx int) int {
	for {
		for i < len(ops) && ops[i].kind != ' ' {
			i++
		}
		j := i
		for j < len(ops) && ops[j].kind == ' ' && j-i < 2*ctx+1 {
			j++
		}
		if j < len(ops) && ops[j].kind != ' ' && j-i <= 2*ctx {
			i = j
			continue
		}
		return min(i+ctx, len(ops))
	}
}
