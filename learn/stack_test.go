package learn

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
)

// stacked is a record of a task confined by a stack of profiles, in the
// kernel's format: audit_pre writes profile= for a label of one profile and
// label= (aa_label_xaudit, parts joined by "//&") for a stack; each part's
// own checks log profile= records of that part.
func stacked(t time.Time, serial int, label, name string) string {
	return strings.Replace(avc(t, serial, label, name), ` profile="`, ` label="`, 1)
}

// A record of a stack that holds the profile is judged by the profile's
// part, as the learner learns it into that part: the stack allows what
// every part allows, so the profile's part is what enforcing it changes.
// A stack without a part of the file's is not the file's to cover.
func TestCoverageStackedLabels(t *testing.T) {
	c := webCoverage(t)
	now := time.Now()
	tests := []struct {
		label, name string
		want        bool
	}{
		{"docker-default//&web", "/srv/www/index.html", true},
		{"web//&docker-default", "/srv/www/index.html", true},
		{"docker-default//&web", "/etc/shadow", false},
		{"docker-default//&web//hat", "/srv/hat", true},
		{"docker-default//&web//hat", "/srv/www/index.html", false},
		{"docker-default//&:ns:web", "/srv/www/index.html", false}, // another namespace's web
		{"docker-default//&other", "/srv/www/index.html", false},
		{"docker-default//&web//null-/usr/bin/curl", "/srv/www/index.html", false},
	}
	for i, tc := range tests {
		t.Run(tc.label+" "+tc.name, func(t *testing.T) {
			rec, err := audit.Parse([]byte(stacked(now, i+1, tc.label, tc.name)))
			require.NoError(t, err)
			require.NotNil(t, rec.Event)
			require.Equal(t, tc.label, rec.Event.ProfileName())
			got, err := c.Event(rec.Event)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// Learning from a stack's records says so, naming the stack and the part
// the rules go into; once they are written, the gate's coverage agrees.
func TestLearnStackedLabel(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	now := time.Unix(1795343999, 0)
	log := stacked(now, 900, "docker-default//&aatest", "/etc/stacked.conf") +
		stacked(now, 901, "docker-default//&aatest", "/etc/stacked.conf") +
		stacked(now, 902, "other//&third", "/etc/not-ours")
	require.NoError(t, os.WriteFile(e.log, []byte(log), 0o644))
	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, []string{"owner /etc/stacked.conf r,"}, texts(res.Proposal))
	assert.Equal(t, "aatest", res.Proposal.Rules[0].Profile)
	var notes []string
	for _, w := range res.Proposal.Warnings {
		if strings.Contains(w, "docker-default//&aatest") {
			notes = append(notes, w)
		}
	}
	require.Len(t, notes, 1, "one note per stack: %q", res.Proposal.Warnings)
	assert.Contains(t, notes[0], "learned into aatest")
	assert.Contains(t, notes[0], "docker-default")

	d, err := res.Proposal.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	_, err = Apply(ctx, e.apply, res.Target, res.Proposal, d)
	require.NoError(t, err)
	o := e.learn
	o.FromStart, o.Check = true, true
	res, err = Learn(ctx, "aatest", o)
	require.NoError(t, err)
	assert.Empty(t, res.Proposal.Rules)
	tgt, err := LoadTarget(e.dirs, "aatest", e.profile)
	require.NoError(t, err)
	rec, err := audit.Parse([]byte(stacked(now, 903, "docker-default//&aatest", "/etc/stacked.conf")))
	require.NoError(t, err)
	covered, err := NewCoverage(tgt.File, parser.ForProfileDir(parser.DefaultIncludeDir)).Event(rec.Event)
	require.NoError(t, err)
	assert.True(t, covered, "the gate judges the stack's record as the learner did")
}
