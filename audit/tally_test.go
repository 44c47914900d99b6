package audit

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTally(t *testing.T) {
	tests := []struct {
		name string
		adds [][2]string // profile, mode
		want map[string]map[Mode]int
	}{
		{"none", nil, map[string]map[Mode]int{}},
		{"one profile, runs of modes", [][2]string{{"a", "ALLOWED"}, {"a", "ALLOWED"}, {"a", "DENIED"}, {"a", "ALLOWED"}},
			map[string]map[Mode]int{"a": {ModeAllowed: 3, ModeDenied: 1}}},
		{"profiles interleaved", [][2]string{{"a", "DENIED"}, {"b", "DENIED"}, {"a", "DENIED"}, {"b", "AUDIT"}, {"", "STATUS"}},
			map[string]map[Mode]int{"a": {ModeDenied: 2}, "b": {ModeDenied: 1, ModeAudit: 1}, "": {ModeStatus: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ty Tally
			for _, a := range tt.adds {
				ty.Add(a[0], Mode(a[1]))
			}
			assert.Equal(t, tt.want, ty.Counts())
		})
	}
}
