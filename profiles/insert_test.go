package profiles_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
)

// Accepted rules go before each (sub)profile's closing brace; everything
// the person wrote stays byte for byte; missing hats are created.
func TestInsertRules(t *testing.T) {
	in := filepath.Join("testdata", "learn", "insert", "svc.profile")
	src, err := os.ReadFile(in)
	require.NoError(t, err)
	f, err := parser.Parse(in, src)
	require.NoError(t, err)
	rules := []profiles.Chosen{
		{Profile: "svc", Text: "capability net_bind_service,"},
		{Profile: "svc", Text: "/etc/hostname r,"},
		{Profile: "svc", Text: "/etc/hostname r,"}, // duplicate: written once
		{Profile: "svc//worker", Text: "owner /var/lib/svc/** rw,"},
		{Profile: "svc//newhat", Text: "/tmp/x w,"},
		{Profile: "oneline", Text: "/y r,"},
	}
	out, err := profiles.InsertRules(src, f, rules, "# learned by aa-flow 2026-11-22")
	require.NoError(t, err)
	golden := filepath.Join("testdata", "learn", "insert", "svc.profile.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, out, 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(out))
	compile(t, string(out))

	_, err = profiles.InsertRules(src, f, []profiles.Chosen{{Profile: "nope", Text: "/x r,"}}, "")
	assert.ErrorContains(t, err, "nope")
	_, err = profiles.InsertRules(src, f, []profiles.Chosen{{Profile: "svc", Text: "/x r,\n}\n/y r,"}}, "")
	assert.Error(t, err)
}

func TestDecide(t *testing.T) {
	prop := &profiles.Proposal{Profile: "svc", Rules: []*profiles.Rule{
		{ID: "r1", Profile: "svc", Text: "a,"},
		{ID: "r2", Profile: "svc", Text: "/g/* r,", Literal: []string{"/g/a r,", "/g/b r,"}, Generalisation: profiles.GenSiblings},
		{ID: "r3", Profile: "svc", Text: "c,"},
	}}
	cases := []struct {
		name string
		sel  profiles.Selection
		want []string
		err  string
	}{
		{"all", profiles.Selection{All: true}, []string{"a,", "/g/* r,", "c,"}, ""},
		{"only", profiles.Selection{Only: []string{"r3"}}, []string{"c,"}, ""},
		{"except", profiles.Selection{Except: []string{"r1"}}, []string{"/g/* r,", "c,"}, ""},
		{"literal", profiles.Selection{All: true, Literal: []string{"r2"}}, []string{"a,", "/g/a r,", "/g/b r,", "c,"}, ""},
		{"literal alone selects it", profiles.Selection{Literal: []string{"r2"}}, []string{"/g/a r,", "/g/b r,"}, ""},
		{"unknown id", profiles.Selection{Only: []string{"r9"}}, nil, "no rule r9"},
		{"literal of a literal", profiles.Selection{All: true, Literal: []string{"r1"}}, nil, "no literal alternative"},
		{"only with except", profiles.Selection{Only: []string{"r1"}, Except: []string{"r2"}}, nil, "--only"},
		{"nothing", profiles.Selection{}, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := prop.Decide(tc.sel)
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			var got []string
			for _, c := range prop.Apply(d) {
				got = append(got, c.Text)
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// A proposal survives its JSON round trip; a damaged file is refused.
func TestProposalJSON(t *testing.T) {
	prop, err := profiles.Propose(nil, "svc", []*audit.Event{fileEvent("/etc/hostname", "r", 1, true)}, profiles.ProposeOptions{})
	require.NoError(t, err)
	b, err := prop.Marshal()
	require.NoError(t, err)
	back, err := profiles.UnmarshalProposal("p.json", b)
	require.NoError(t, err)
	assert.Equal(t, prop.Rules[0].Text, back.Rules[0].Text)
	assert.Equal(t, prop.Rules[0].Evidence.First.Unix(), back.Rules[0].Evidence.First.Unix())
	_, err = profiles.UnmarshalProposal("p.json", []byte(`{"rules":[{"id":"r1","text":"a,\n}"}]}`))
	assert.ErrorContains(t, err, "spans lines")
	_, err = profiles.UnmarshalProposal("p.json", []byte(`{"rules":[{"id":"r1","text":"a,"},{"id":"r1","text":"b,"}]}`))
	assert.ErrorContains(t, err, "twice")
}
