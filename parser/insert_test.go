package parser_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// Accepted rules go before each (sub)profile's closing brace; everything
// the person wrote stays byte for byte; missing hats are created.
func TestInsertRules(t *testing.T) {
	in := filepath.Join("testdata", "insert", "svc.profile")
	src, err := os.ReadFile(in)
	require.NoError(t, err)
	f, err := parser.Parse(in, src)
	require.NoError(t, err)
	rules := []profiles.Chosen{
		{Profile: "svc", Text: "capability net_bind_service,"},
		{Profile: "svc", Text: "/etc/hostname r,"},
		{Profile: "svc", Text: "/etc/hostname r,"}, // duplicate: written once
		{Profile: "svc//worker", Text: "owner /var/lib/svc/** rw,"},
		{Profile: "svc//newhat", Text: "/tmp/x w,"},
		{Profile: "oneline", Text: "/y r,"},
	}
	out, err := parser.InsertRules(src, f, rules, "# learned by aa-flow 2026-11-22")
	require.NoError(t, err)
	golden := filepath.Join("testdata", "insert", "svc.profile.golden")
	if testutil.Update() {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))
	profiletest.Compile(t, string(out))

	_, err = parser.InsertRules(src, f, []profiles.Chosen{{Profile: "nope", Text: "/x r,"}}, "")
	assert.ErrorContains(t, err, "nope")
	_, err = parser.InsertRules(src, f, []profiles.Chosen{{Profile: "svc", Text: "/x r,\n}\n/y r,"}}, "")
	assert.Error(t, err)
}
