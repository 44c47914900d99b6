package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/policy"
)

// Which exec rule sends an exec where: an exact name beats a pattern, a
// deny rule leaves none, and rules that grant no exec do not count.
func TestExecRule(t *testing.T) {
	const src = `profile svc {
  /usr/bin/* rix,
  /usr/bin/tool rcx,
  /usr/bin/named cx -> helper,
  /usr/bin/other Px,
  /usr/bin/gone r,
  deny /usr/bin/nope x,
  /opt/app/** r,
  profile helper {
  }
}
`
	p, err := policy.NewPolicy(profiletest.Parse(t, src), "svc", nil)
	require.NoError(t, err)
	tests := []struct {
		path, mode, target string
	}{
		{"/usr/bin/tool", "cx", ""},
		{"/usr/bin/named", "cx", "helper"},
		{"/usr/bin/other", "Px", ""},
		{"/usr/bin/cat", "ix", ""},
		{"/usr/bin/gone", "ix", ""}, // r only: the pattern's ix applies
		{"/usr/bin/nope", "", ""},
		{"/opt/app/run", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := p.ExecRule(tt.path)
			if tt.mode == "" {
				assert.Nil(t, r)
				return
			}
			require.NotNil(t, r)
			assert.Equal(t, tt.mode, r.Exec)
			assert.Equal(t, tt.target, r.Target)
		})
	}
	profiletest.Compile(t, src)
}
