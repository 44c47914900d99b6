package learn

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
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
		ok, _ := ProfileFor(dir, tt.exe)
		assert.Equal(t, tt.want, ok, tt.exe)
	}
}

// An abstraction is rated by what it grants, with its own variables: a
// profile that does not include tunables/global does not make every
// @{VAR} in abstractions/base "any path" (severity 10), and the rule that
// sets the rating is named.
func TestRateAbstraction(t *testing.T) {
	r := parser.ForProfileDir("/etc/apparmor.d")
	f := &profiles.File{Path: "<abstractions/base>", Items: []profiles.Node{
		&profiles.Include{Path: "tunables/global", Angle: true},
		&profiles.Profile{Keyword: "profile", Name: "abstraction", Rules: []profiles.Node{&profiles.Include{Path: "abstractions/base", Angle: true}}},
	}}
	pol, err := policy.NewPolicy(f, "abstraction", r.Load)
	require.NoError(t, err)
	db, err := lint.OpenSeverity("")
	require.NoError(t, err)
	ab := rateAbstraction(propose.AbstractionCandidate{Name: "abstractions/base", Covers: pol.Covers, Always: true}, pol, db.WithVars(nil))
	assert.Equal(t, 9, ab.Severity)
	assert.Contains(t, ab.Worst, ".ecryptfs")

	prop, err := propose.Propose(nil, "svc", nil, propose.ProposeOptions{Abstractions: []propose.AbstractionCandidate{ab}})
	require.NoError(t, err)
	require.Len(t, prop.Rules, 1)
	assert.Equal(t, "include <abstractions/base>", prop.Rules[0].Text)
	assert.Contains(t, prop.Rules[0].Why, "no record asked for it")
	assert.Contains(t, prop.Rules[0].Why, "severity 9: "+ab.Worst)
}

// The abi a profile pins is read from the profile directory, else from
// where apparmor_parser finds it; abi/3.0 has no userns rules.
func TestPinnedABI(t *testing.T) {
	f, err := parser.Parse("svc", []byte("abi <abi/3.0>,\nprofile svc {\n}\n"))
	require.NoError(t, err)
	abi, feats := pinnedABI(f, t.TempDir())
	assert.Equal(t, "abi/3.0", abi)
	assert.Contains(t, feats, "file/mask")
	assert.Equal(t, "namespaces/mask", feats.MissingFor("userns", "", []string{"create"}))

	f, err = parser.Parse("svc", []byte("profile svc {\n}\n"))
	require.NoError(t, err)
	abi, feats = pinnedABI(f, t.TempDir())
	assert.Empty(t, abi)
	assert.Nil(t, feats)
}
