package review

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// The diff of the 7.3 kernel's records of a socket bound to a path shows
// the held addr=none rule with what it grants beyond them.
func TestAnnotatedUnixPath(t *testing.T) {
	b, err := os.ReadFile(testutil.Corpus(t, "kernel", "debian-7.3-kmsg.log"))
	require.NoError(t, err)
	var evs []*audit.Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		rec, err := audit.Parse(sc.Bytes())
		if err != nil || rec == nil || rec.Event == nil {
			continue
		}
		if e := rec.Event; e.ProfileName() == "aatest" && (policy.UnixPathAddr(e.Addr) || policy.UnixPathAddr(e.PeerAddr)) {
			evs = append(evs, e)
		}
	}
	require.NoError(t, sc.Err())
	require.NotEmpty(t, evs)
	const src = "profile aatest /usr/bin/aatest flags=(complain) {\n}\n"
	f, err := parser.Parse("aatest", []byte(src))
	require.NoError(t, err)
	var builtin *lint.SeverityDB // the built-in table: the same on every host
	prop, err := propose.Propose(f, "aatest", evs, propose.ProposeOptions{Severity: builtin})
	require.NoError(t, err)
	require.Len(t, prop.Held(), 1)
	got, err := Annotated(prop, "/etc/apparmor.d/aatest", []byte(src), f, false)
	require.NoError(t, err)
	testutil.Golden(t, filepath.Join("testdata", "annotated-unix-path.golden"), []byte(got))
	assert.NotContains(t, got, "addr=/tmp/aatest/sock,")
}
