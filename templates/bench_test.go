package templates

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/parser"
)

// benchProfile is a large real profile.
const benchProfile = "/usr/share/apparmor/extra-profiles/usr.lib.firefox.firefox"

func BenchmarkRender(b *testing.B) {
	src, err := os.ReadFile(benchProfile)
	require.NoError(b, err)
	f, err := parser.Parse(benchProfile, src)
	require.NoError(b, err)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Render(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormat(b *testing.B) {
	src, err := os.ReadFile(benchProfile)
	require.NoError(b, err)
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Format(benchProfile, src); err != nil {
			b.Fatal(err)
		}
	}
}
