package seccomp

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDockerDefaultRoundTrips(t *testing.T) {
	p, err := Parse(DockerDefault())
	require.NoError(t, err)
	assert.Equal(t, ActErrno, p.DefaultAction)
	allowed := p.Names(ActAllow)
	assert.Contains(t, allowed, "read")
	assert.Contains(t, allowed, "ptrace", "allowed from kernel 4.8")
	assert.NotContains(t, p.UnconditionalNames(ActAllow), "ptrace")
	assert.NotContains(t, allowed, "kexec_load_not_a_call")

	out, err := p.Marshal()
	require.NoError(t, err)
	var a, b any
	require.NoError(t, json.Unmarshal(DockerDefault(), &a))
	require.NoError(t, json.Unmarshal(out, &b))
	assert.Equal(t, a, b, "nothing of the default profile is lost when written back")
}

func TestParseRefuses(t *testing.T) {
	for _, in := range []string{
		`nope`,
		`{"syscalls":[]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"]}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"action":"SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[],"newField":1}`,
	} {
		_, err := Parse([]byte(in))
		assert.ErrorIs(t, err, ErrFormat, in)
	}
}
