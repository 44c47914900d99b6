package learn

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// Rules that use the tunables' variables are not written into a file that
// has none of them: apparmor_parser would refuse it ("variable ... is never
// declared"); the error names them and the fix.
func TestNeedsTunables(t *testing.T) {
	parse := func(src string) *Target {
		f, err := parser.Parse("web", []byte(src))
		require.NoError(t, err)
		return &Target{Name: "web", Path: "/etc/apparmor.d/web", File: f}
	}
	bare := parse("profile web {\n}\n")
	withVar := parse("@{HOME} = /home/*/\nprofile web {\n}\n")
	withTunables := parse("include <tunables/global>\nprofile web {\n}\n")
	home := []profiles.Chosen{{Text: "owner @{HOME}/.webrc r,"}}
	err := needsTunables(bare, home)
	var te *TunablesError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, []string{"@{HOME}"}, te.Missing)
	assert.ErrorContains(t, err, "web: not written: the rules use @{HOME}, which need the variables <tunables/global> defines")
	assert.NoError(t, needsTunables(withVar, home))
	assert.NoError(t, needsTunables(withTunables, home))
	assert.NoError(t, needsTunables(bare, []profiles.Chosen{{Text: "/etc/x r,"}}))
}
