package policy_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/policy"
)

func TestCollectVars(t *testing.T) {
	f := profiletest.Parse(t, "include <tunables/global>\n@{svc} = /srv/svc/\n@{HOMEDIRS} += /data/home/\nprofile t {\n}\n")
	vars, err := policy.CollectVars(f, dirLoader(etcApparmor))
	require.NoError(t, err)
	assert.Equal(t, []string{"/srv/svc/"}, vars["svc"])
	assert.Contains(t, vars["HOMEDIRS"], "/home/", "from Debian's tunables/home")
	assert.Contains(t, vars["HOMEDIRS"], "/data/home/", "+= after the include appends")
	assert.NotEmpty(t, vars["PROC"])

	vars, err = policy.CollectVars(f, nil)
	require.NoError(t, err)
	assert.Nil(t, vars["PROC"], "includes are not followed without a loader")
}
