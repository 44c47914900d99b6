package learn

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/review"
)

// forgedNames are file names a confined program can create whose bytes,
// printed raw, read as more lines of the diff or the profile: the kernel
// hex-encodes such a name in its record (name=2F746D70...), the decoder
// turns it back into these bytes.
var forgedNames = []string{
	"/tmp/x\n+  /etc/shadow rw,",
	"/tmp/y\n  capability sys_admin,",
	"/tmp/z\r\n+  /etc/shadow rw,",
	"/tmp/job.1234\n+  /etc/shadow rw,",
	"/tmp/job.5678\n+  /etc/shadow rw,",
	"/tmp/w\n}\nprofile evil {\n  /** rwlkmix,\n}\n",
}

// injected matches a line that reads as one of the rules the names smuggle.
var injected = regexp.MustCompile(`^[+ ]?\s*(/etc/shadow|capability sys_admin|profile evil|/\*\*)`)

func forgedLog(names []string) []byte {
	var b bytes.Buffer
	for i, n := range names {
		fmt.Fprintf(&b, `[    9.%06d] audit: type=1400 audit(1795343999.%03d:%d): apparmor="ALLOWED" operation="open" profile="aatest" name=%s pid=130 comm="aatest" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`+"\n",
			i, i, 900+i, strings.ToUpper(hex.EncodeToString([]byte(n))))
		fmt.Fprintf(&b, `[    9.%06d] audit: type=1400 audit(1795343999.%03d:%d): apparmor="ALLOWED" operation="exec" profile="aatest" name=%s pid=131 comm="aatest" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="othertarget"`+"\n",
			i, i, 1900+i, strings.ToUpper(hex.EncodeToString([]byte(n+"-bin"))))
	}
	return b.Bytes()
}

func noForgedLine(t *testing.T, what, text string) {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		assert.False(t, injected.MatchString(l), "%s line %d reads as a smuggled rule: %q", what, i+1, l)
	}
}

func TestForgedNamesStayOneLine(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	require.NoError(t, os.WriteFile(e.log, forgedLog(forgedNames), 0o644))
	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	prop := res.Proposal
	require.NotEmpty(t, prop.Rules)
	for _, r := range prop.Rules {
		t.Logf("rule %s: %q held=%q explain=%q", r.ID, r.Text, r.Held, r.ExplainLine())
	}
	for _, w := range prop.Warnings {
		t.Logf("warning: %q", w)
	}

	diff, err := review.Annotated(prop, res.Target.Path, res.Target.Src, res.Target.File, false)
	require.NoError(t, err)
	t.Log(diff)
	noForgedLine(t, "diff", diff)
	noForgedLine(t, "summary", review.Summary(prop))
	for _, r := range prop.Rules {
		noForgedLine(t, "card", review.Card(r, false))
	}
	var out strings.Builder
	_, _, err = review.Review(strings.NewReader(strings.Repeat("e\ny\n", len(prop.Rules))+"y\n"), &out, prop, review.Options{})
	require.NoError(t, err)
	noForgedLine(t, "review", out.String())

	d, err := prop.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	_, err = Apply(ctx, e.apply, res.Target, prop, d)
	require.NoError(t, err)
	compiles(t, e.profile)
	src, err := os.ReadFile(e.profile)
	require.NoError(t, err)
	noForgedLine(t, "profile", string(src))
	f, err := parser.Parse(e.profile, src)
	require.NoError(t, err)
	var walk func(ps []*profiles.Profile)
	walk = func(ps []*profiles.Profile) {
		for _, p := range ps {
			assert.NotEqual(t, "evil", p.Name)
			for _, n := range p.Rules {
				switch r := n.(type) {
				case *profiles.CapabilityRule:
					assert.NotContains(t, r.Caps, "sys_admin")
				case *profiles.FileRule:
					assert.NotEqual(t, "/etc/shadow", r.Path)
					assert.NotEqual(t, "/**", r.Path)
				}
			}
			walk(p.Children())
		}
	}
	walk(f.Profiles())

	// Each name is allowed as itself, and only as itself.
	pol, err := policy.NewPolicy(f, "aatest", nil)
	require.NoError(t, err)
	for _, n := range forgedNames {
		assert.True(t, pol.Covers(policy.Access{Class: policy.ClassFile, Path: n, Perms: "r", Owner: true}), "%q", n)
	}
	for _, n := range []string{"/etc/shadow", "/tmp/x", "/tmp/y", "/tmp/w"} {
		assert.False(t, pol.Covers(policy.Access{Class: policy.ClassFile, Path: n, Perms: "r", Owner: true}), "%q", n)
	}
}
