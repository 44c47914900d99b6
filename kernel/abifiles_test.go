package kernel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNumberedABIs(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	for _, p := range []string{filepath.Join(a, "4.0"), filepath.Join(a, "kernel-5.4-vanilla"), filepath.Join(b, "3.0"), filepath.Join(b, "4.0"), filepath.Join(b, "10.0")} {
		require.NoError(t, os.WriteFile(p, nil, 0o644))
	}
	got, err := NumberedABIs(a, b, filepath.Join(a, "missing"))
	require.NoError(t, err)
	assert.Equal(t, []string{"3.0", "4.0", "10.0"}, got)
}

// init pins the newest abi the parser ships, or the one asked for.
func TestChooseABI(t *testing.T) {
	tests := []struct {
		name          string
		files         []string
		parser, pin   string
		want, wantErr string
	}{
		{"parser 3.0.8", []string{"3.0"}, "3.0.8", "", "3.0", ""},
		{"parser 4.1.0", []string{"3.0", "4.0"}, "4.1.0", "", "4.0", ""},
		{"a newer file than the parser", []string{"3.0", "4.0"}, "3.0.8", "", "3.0", ""},
		{"parser 5.0", []string{"3.0", "4.0", "5.0"}, "5.0.0~beta1", "", "5.0", ""},
		{"no files", nil, "4.1.0", "", "3.0", ""},
		{"pinned", []string{"3.0", "4.0"}, "4.1.0", "3.0", "3.0", ""},
		{"pinned with prefix", []string{"3.0", "4.0"}, "4.1.0", "abi/3.0", "3.0", ""},
		{"pinned missing", []string{"3.0"}, "3.0.8", "4.0", "", `abi "4.0": no such abi file (the abi directories hold: 3.0)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChooseABI(tt.files, tt.parser, tt.pin)
			if tt.wantErr != "" {
				assert.ErrorIs(t, err, ErrUnknownABI)
				assert.EqualError(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
