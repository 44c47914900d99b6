package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type seccompEnv struct{ state string }

func (e seccompEnv) run(stdin string, args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := run(append([]string{"--state-dir", e.state, "seccomp"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// inspectWith is docker inspect JSON of a container whose security options
// inline profile as the docker CLI does (compacted).
func inspectWith(t *testing.T, profile []byte) string {
	var c bytes.Buffer
	require.NoError(t, json.Compact(&c, profile))
	b, err := json.Marshal([]map[string]any{{"Name": "/web", "HostConfig": map[string]any{"SecurityOpt": []string{"apparmor=web", "seccomp=" + c.String()}}}})
	require.NoError(t, err)
	return string(b)
}

func TestSeccompCommands(t *testing.T) {
	e := seccompEnv{state: t.TempDir()}
	code, out, errs := e.run("", "init", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "revision 1 (log)")
	path := filepath.Join(e.state, "web", "seccomp.json")
	assert.Contains(t, out, "--security-opt seccomp="+path)
	code, _, errs = e.run("", "init", "web")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "--force")

	code, out, _ = e.run("", "status", "web")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "web: log, revision 1")

	learning, err := os.ReadFile(path)
	require.NoError(t, err)
	code, out, _ = e.run(inspectWith(t, learning), "verify", "web", "--inspect", "-")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "✓ web: runs web's seccomp profile, revision 1 (log)")

	// The gate: no record in the window refuses (exit 4); --force refuses
	// too while nothing is learned.
	empty := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	code, _, errs = e.run("", "enforce", "web", "--from", empty, "--quiet-for", "0s")
	assert.Equal(t, 4, code, errs)
	assert.Contains(t, errs, "no SECCOMP record in the window")
	code, _, errs = e.run("", "enforce", "web", "--force")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "nothing learned")

	code, out, _ = e.run("", "rollback", "web", "--default")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "revision 2 (default)")
	code, out, _ = e.run(inspectWith(t, learning), "verify", "web", "--inspect", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "recreate the container")
	code, _, _ = e.run("", "rollback", "web")
	assert.Equal(t, 0, code)
	code, out, _ = e.run(inspectWith(t, learning), "verify", "web", "--inspect", "-")
	assert.Equal(t, 0, code, out)

	code, _, _ = e.run("", "verify", "web")
	assert.Equal(t, 2, code)
	code, _, errs = e.run("", "status", "other")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "aa-flow seccomp init")
}
