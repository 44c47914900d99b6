package propose_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
)

// ctrWebd is the container profile aa-flow init --template container wrote
// in the guest, trimmed to what the records meet.
const ctrWebd = `profile ctr-webd flags=(attach_disconnected, mediate_deleted, complain) {
  signal (receive) peer=runc,
  signal (receive) peer=unconfined,
  signal (send, receive) peer=ctr-webd,
  ptrace (read) peer=ctr-webd,
}
`

// The Docker guest's records (testdata/corpus/kernel/docker): webd, run by
// the container's /bin/sh without an exec rule, ran under complain mode's
// null- profile, which logged its files and none of its sockets. The
// proposal names it as incomplete evidence, also once the exec rule is in
// and nothing new is left to propose, until webd runs as ctr-webd; then
// the kernel logs the inet6 socket the null- profile hid.
func TestLearningChildInContainer(t *testing.T) {
	path := testutil.Corpus(t, "kernel", "docker", "debian-13-docker.log")
	start := append(readTagged(t, path, "start"), readTagged(t, path, "workload")...)

	learned, prop := learnInto(t, ctrWebd, "ctr-webd", start, propose.ProposeOptions{})
	assert.Equal(t, []string{"/usr/bin/webd"}, prop.LearningChildren)
	assert.False(t, prop.Complete())
	var texts []string
	for _, r := range prop.Rules {
		texts = append(texts, r.Text)
	}
	assert.Contains(t, texts, "/usr/bin/webd rmix,")
	assert.Contains(t, texts, "network inet stream,", "wget's sockets, under ctr-webd, are logged")
	assert.NotContains(t, strings.Join(texts, "\n"), "inet6", "the null- profile logged none of webd's sockets")

	// The restart, before webd ran as ctr-webd: nothing new, and still not
	// complete.
	opts := coveredBy(t, learned, "ctr-webd")
	again, err := propose.Propose(parseProfile(t, learned), "ctr-webd", readTagged(t, path, "restart"), opts)
	require.NoError(t, err)
	assert.Empty(t, again.Rules)
	assert.Equal(t, []string{"/usr/bin/webd"}, again.LearningChildren)

	// Under ctr-webd itself (the enforce run's records), webd's inet6
	// probe is there to learn, and nothing is incomplete.
	after, err := propose.Propose(parseProfile(t, learned), "ctr-webd", readTagged(t, path, "enforce"), opts)
	require.NoError(t, err)
	require.Len(t, after.Rules, 1)
	assert.Equal(t, "network inet6 stream,", after.Rules[0].Text)
	assert.True(t, after.Complete())
}

func TestLearningChild(t *testing.T) {
	tests := []struct {
		label, name, prog string
		ok                bool
	}{
		{"web//null-/usr/bin/curl", "web", "/usr/bin/curl", true},
		{"web//hat//null-/bin/sh", "web", "/bin/sh", true},
		{"web//null-/bin/sh//null-/bin/ls", "web", "/bin/ls", true},
		{"docker-default//&web//null-/bin/x", "web", "/bin/x", true},
		{"web", "web", "", false},
		{"web//hat", "web", "", false},
		{"other//null-/bin/x", "web", "", false},
		{"webby//null-/bin/x", "web", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			prog, ok := propose.LearningChild(tt.label, tt.name)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.prog, prog)
		})
	}
}

func parseProfile(t *testing.T, src string) *profiles.File {
	t.Helper()
	f, err := parser.Parse("test.profile", []byte(src))
	require.NoError(t, err)
	return f
}

// coveredBy proposes against src's policy of name: what it allows is not
// proposed again.
func coveredBy(t *testing.T, src, name string) propose.ProposeOptions {
	t.Helper()
	pol, err := policy.NewPolicy(parseProfile(t, src), name, nil)
	require.NoError(t, err)
	return propose.ProposeOptions{Covers: func(profile string, a policy.Access) bool { return profile == name && pol.Covers(a) }}
}
