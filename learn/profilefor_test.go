package learn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// px only to a profile that exists: a file named after the program is not
// enough; it must define a profile for that program and not be disabled.
func TestProfileFor(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644))
	}
	write("usr.bin.tool", "profile tool /usr/bin/tool {\n}\n")
	write("usr.bin.glob", "/usr/bin/gl* {\n}\n")
	write("usr.bin.other", "profile other /usr/bin/something-else {\n}\n")
	write("usr.bin.broken", "profile broken /usr/bin/broken {\n")
	write("usr.bin.off", "profile off /usr/bin/off {\n}\n")
	write("disable/usr.bin.off", "")
	tests := []struct {
		exe  string
		want bool
	}{
		{"/usr/bin/tool", true},
		{"/usr/bin/glob", true},
		{"/usr/bin/other", false},  // the file defines another program's profile
		{"/usr/bin/broken", false}, // does not parse
		{"/usr/bin/off", false},    // disabled
		{"/usr/bin/none", false},   // no file
		{"tool", false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, ProfileFor(dir, tt.exe), tt.exe)
	}
}
