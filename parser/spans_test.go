package parser

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A profile header records where its flags clauses and its braces are, so
// that an edit of the flags touches only them.
func TestProfileSpans(t *testing.T) {
	tests := []struct {
		src   string
		flags []string // the text of each flags clause
	}{
		{"profile a flags=(complain) {\n}\n", []string{"flags=(complain)"}},
		{"profile a flags = ( complain , attach_disconnected ) {\n}\n", []string{"flags = ( complain , attach_disconnected )"}},
		{"profile a flags=complain {\n}\n", []string{"flags=complain"}},
		{"/usr/bin/a (complain) {\n}\n", []string{"(complain)"}},
		{"profile a /usr/{bin,sbin}/a flags=(complain) {\n}\n", []string{"flags=(complain)"}},
		{"profile a # a comment\n  flags=(complain) # another\n{\n}\n", []string{"flags=(complain)"}},
		{"profile a {\n}\n", nil},
		{"profile a flags=(complain) flags=(audit) {\n}\n", []string{"flags=(complain)", "flags=(audit)"}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			f, err := Parse("t", []byte(tt.src))
			require.NoError(t, err)
			p := f.Profiles()[0]
			var got []string
			for _, s := range p.FlagSpans {
				got = append(got, tt.src[s.Start:s.End])
			}
			assert.Equal(t, tt.flags, got)
			assert.Equal(t, byte('{'), tt.src[p.Open.Offset])
			assert.Equal(t, byte('}'), tt.src[p.Close.Offset])
		})
	}
}

func TestSplice(t *testing.T) {
	src := []byte("abcdef")
	out, err := Splice(src, []Edit{{Start: 4, End: 6, Text: "XY"}, {Start: 0, End: 0, Text: ">"}, {Start: 1, End: 2}})
	require.NoError(t, err)
	assert.Equal(t, ">acdXY", string(out))
	assert.Equal(t, "abcdef", string(src))
	_, err = Splice(src, []Edit{{Start: 1, End: 3}, {Start: 2, End: 4}})
	assert.Error(t, err, "overlapping edits")
	_, err = Splice(src, []Edit{{Start: 5, End: 9}})
	assert.Error(t, err, "outside the text")
}
