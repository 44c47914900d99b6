package propose_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/propose"
)

func TestDecide(t *testing.T) {
	prop := &propose.Proposal{Profile: "svc", Rules: []*propose.Rule{
		{ID: "r1", Profile: "svc", Text: "a,"},
		{ID: "r2", Profile: "svc", Text: "/g/* r,", Literal: []string{"/g/a r,", "/g/b r,"}, Generalisation: propose.GenSiblings},
		{ID: "r3", Profile: "svc", Text: "c,"},
	}}
	cases := []struct {
		name string
		sel  propose.Selection
		want []string
		err  string
	}{
		{"all", propose.Selection{All: true}, []string{"a,", "/g/* r,", "c,"}, ""},
		{"only", propose.Selection{Only: []string{"r3"}}, []string{"c,"}, ""},
		{"except", propose.Selection{Except: []string{"r1"}}, []string{"/g/* r,", "c,"}, ""},
		{"literal", propose.Selection{All: true, Literal: []string{"r2"}}, []string{"a,", "/g/a r,", "/g/b r,", "c,"}, ""},
		{"literal alone selects it", propose.Selection{Literal: []string{"r2"}}, []string{"/g/a r,", "/g/b r,"}, ""},
		{"unknown id", propose.Selection{Only: []string{"r9"}}, nil, "no rule r9"},
		{"literal of a literal", propose.Selection{All: true, Literal: []string{"r1"}}, nil, "no literal alternative"},
		{"only with except", propose.Selection{Only: []string{"r1"}, Except: []string{"r2"}}, nil, "--only"},
		{"nothing", propose.Selection{}, nil, ""},
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
	prop, err := propose.Propose(nil, "svc", []*audit.Event{fileEvent("/etc/hostname", "r", 1, true)}, propose.ProposeOptions{})
	require.NoError(t, err)
	b, err := prop.Marshal()
	require.NoError(t, err)
	back, err := propose.UnmarshalProposal("p.json", b)
	require.NoError(t, err)
	assert.Equal(t, prop.Rules[0].Text, back.Rules[0].Text)
	assert.Equal(t, prop.Rules[0].Evidence.First.Unix(), back.Rules[0].Evidence.First.Unix())
	_, err = propose.UnmarshalProposal("p.json", []byte(`{"rules":[{"id":"r1","text":"a,\n}"}]}`))
	assert.ErrorContains(t, err, "spans lines")
	_, err = propose.UnmarshalProposal("p.json", []byte(`{"rules":[{"id":"r1","text":"a,"},{"id":"r1","text":"b,"}]}`))
	assert.ErrorContains(t, err, "twice")
}
