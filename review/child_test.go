package review

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
)

// The diff shows a cx rule's new child as the block apply writes, its
// rules inside it, not as an empty child beside a hat of the same name (as
// the Debian 13 guest's learn --child printed before).
func TestAnnotatedChild(t *testing.T) {
	exec := &audit.Event{Mode: audit.ModeAllowed, Operation: "exec", Profile: "svc", Name: "/usr/bin/tool", Target: "svc//null-/usr/bin/tool", RequestedMask: "x", FSUID: 0, OUID: 0}
	conf := &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc//null-/usr/bin/tool", Name: "/etc/tool.conf", RequestedMask: "r", FSUID: 0, OUID: 0}
	f, err := parser.Parse("svc", []byte(svcProfile))
	require.NoError(t, err)
	prop, err := propose.Propose(f, "svc", []*audit.Event{exec, conf}, propose.ProposeOptions{ChildExec: true})
	require.NoError(t, err)
	got, err := Annotated(prop, "/etc/apparmor.d/svc", []byte(svcProfile), f, false)
	require.NoError(t, err)
	testutil.Golden(t, filepath.Join("testdata", "annotated-child.golden"), []byte(got))
	assert.NotContains(t, got, "^/usr/bin/tool")
}
