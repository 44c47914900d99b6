package propose

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTooBroad(t *testing.T) {
	for pat, want := range map[string]bool{
		"/":                 true,
		"/*":                true,
		"/**":               true,
		"/tmp/*":            true,
		"/usr/**":           true,
		"/*/x":              true,
		"/tmp/stress/*":     false,
		"@{PROC}/@{pid}/":   false,
		"/etc/hostname":     false,
		"/home/*/.cache/x":  false,
		"/run/user/@{uid}/": false,
	} {
		assert.Equal(t, want, tooBroad(pat), pat)
	}
}

func TestFilePerms(t *testing.T) {
	for in, want := range map[string]string{
		"r": "r", "wc": "w", "c": "w", "d": "w", "wrd": "rw", "a": "a", "aw": "w",
		"::r": "r", "r::": "r", "mrwIxl": "rwlm", "x": "", "k": "k", "": "",
	} {
		assert.Equal(t, want, filePerms(in), in)
	}
}
