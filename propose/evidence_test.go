package propose

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aa-flow/aa-flow/audit"
)

// Evidence keeps the lines of the first record's file, up to MaxLines, and
// a merge keeps them sorted, once each, in a slice of its own.
func TestEvidenceLines(t *testing.T) {
	rec := func(src string, line int) *audit.Event {
		return &audit.Event{Source: src, Line: line, PID: audit.Unset}
	}
	tests := []struct {
		name string
		recs []*audit.Event
		want []int
	}{
		{"one file", []*audit.Event{rec("a.log", 3), rec("a.log", 9)}, []int{3, 9}},
		{"other files are not kept", []*audit.Event{rec("a.log", 3), rec("b.log", 4), rec("a.log", 5)}, []int{3, 5}},
		{"journald has no lines", []*audit.Event{rec("journald", 0), rec("journald", 0)}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ev Evidence
			for _, e := range tc.recs {
				ev.add(e)
			}
			assert.Equal(t, tc.want, ev.Lines)
			assert.Equal(t, len(tc.recs), ev.Count)
		})
	}

	var a, b, full Evidence
	for i := 1; i <= MaxLines/2; i++ {
		a.add(rec("a.log", 2*i))
		b.add(rec("a.log", 2*i-1))
	}
	for i := 1; i <= MaxLines+5; i++ {
		full.add(rec("a.log", 100+i))
	}
	assert.Len(t, full.Lines, MaxLines)
	kept := append([]int(nil), a.Lines...)
	var m Evidence
	m.merge(a)
	m.merge(b)
	m.merge(full)
	assert.Len(t, m.Lines, MaxLines, "once full, a merge adds no lines")
	assert.Equal(t, 1, m.Lines[0])
	assert.Equal(t, 2, m.Lines[1])
	assert.IsIncreasing(t, m.Lines)
	assert.Equal(t, kept, a.Lines, "a merge leaves the merged evidence alone")
	assert.Equal(t, MaxLines+MaxLines+5, m.Count)
}

// A comm is the process's own choice of name (hex in the record, so any
// bytes): the summary escapes it, so it cannot break the review's line.
func TestEvidenceStringEscapesComm(t *testing.T) {
	var ev Evidence
	ev.add(&audit.Event{Comm: "x\n[r9] cap", PID: 7, SenderPID: audit.Unset, SenderUID: audit.Unset})
	s := ev.String()
	assert.NotContains(t, s, "\n")
	assert.Contains(t, s, "comm=x")
	assert.Contains(t, s, " pid=7")
}
