package review

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnifiedSmall(t *testing.T) {
	old := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	new := "a\nb\nc\nd\ne\nf\ng\nh\nX\ni\nj\n"
	want := "--- old\n+++ new\n@@ -6,5 +6,6 @@\n f\n g\n h\n+X\n i\n j\n"
	assert.Equal(t, want, Unified("old", "new", []byte(old), []byte(new), false))
	assert.Equal(t, "", Unified("old", "new", []byte(old), []byte(old), false))
	// From nothing.
	assert.Equal(t, "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n", Unified("old", "new", nil, []byte("a\nb\n"), false))
	// Colour marks added lines green.
	assert.Contains(t, Unified("old", "new", []byte(old), []byte(new), true), colGreen+"+X"+colReset)
}

// patch applies a unified diff produced by Unified to old.
func patch(t *testing.T, old []string, diff string) []string {
	lines := splitLines(diff)
	require.GreaterOrEqual(t, len(lines), 2)
	var out []string
	ai := 0 // next old line (0-based) not yet copied
	for i := 2; i < len(lines); {
		h := lines[i]
		require.True(t, strings.HasPrefix(h, "@@ -"), h)
		f := strings.Fields(h)
		aStart, _ := strconv.Atoi(strings.Split(strings.TrimPrefix(f[1], "-"), ",")[0])
		if strings.HasSuffix(f[1], ",0") {
			aStart++
		}
		for ai < aStart-1 {
			out = append(out, old[ai])
			ai++
		}
		i++
		for i < len(lines) && !strings.HasPrefix(lines[i], "@@ ") {
			l := lines[i]
			switch l[0] {
			case ' ':
				require.Equal(t, old[ai], l[1:])
				out = append(out, l[1:])
				ai++
			case '-':
				require.Equal(t, old[ai], l[1:])
				ai++
			case '+':
				out = append(out, l[1:])
			}
			i++
		}
	}
	return append(out, old[ai:]...)
}

// Random edits of real profiles: the diff always patches old into new.
func TestUnifiedRoundTrip(t *testing.T) {
	files, _ := filepath.Glob("/etc/apparmor.d/usr.*")
	require.NotEmpty(t, files)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, fn := range files {
		data, err := os.ReadFile(fn)
		require.NoError(t, err)
		old := splitLines(string(data))
		for k := 0; k < 5; k++ {
			new := append([]string(nil), old...)
			for e := 0; e < 1+rng.IntN(6); e++ {
				at := rng.IntN(len(new) + 1)
				switch rng.IntN(3) {
				case 0:
					new = append(new[:at], append([]string{fmt.Sprintf("  /added/%d r,", e)}, new[at:]...)...)
				case 1:
					if at < len(new) {
						new = append(new[:at], new[at+1:]...)
					}
				default:
					if at < len(new) {
						new[at] = "  # changed"
					}
				}
			}
			d := Unified("a", "b", []byte(strings.Join(old, "\n")+"\n"), []byte(strings.Join(new, "\n")+"\n"), false)
			if strings.Join(old, "\n") == strings.Join(new, "\n") {
				assert.Empty(t, d)
				continue
			}
			assert.Equal(t, new, patch(t, old, d), "%s edit %d:\n%s", fn, k, d)
		}
	}
}
