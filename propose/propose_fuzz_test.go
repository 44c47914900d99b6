package propose_test

import (
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// FuzzProposeLiteral: whatever name a record carries, the proposed rule
// reads back (parser) as a rule that allows that name and not its
// neighbours: a name from a log never becomes a pattern.
func FuzzProposeLiteral(f *testing.F) {
	for _, s := range []string{"/srv/x/*", "/srv/x/{a,b}", "/srv/x/a b", "/srv/x/a,", "/srv/x/@{HOME}", `/a\b`, "/a\"b", "/a#b", "/x/**", "/[ab]", "/^x", "/a!b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !strings.HasPrefix(name, "/") || strings.Contains(name, "//") {
			return // the kernel logs absolute paths without empty segments
		}
		e := &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc", Name: name, RequestedMask: "r", FSUID: 0, OUID: 1}
		prop, err := propose.Propose(nil, "svc", []*audit.Event{e}, propose.ProposeOptions{SiblingThreshold: -1})
		if err != nil {
			t.Fatal(err)
		}
		if len(prop.Rules) == 0 {
			return // refused as unwritable (a warning says so)
		}
		r := prop.Rules[0]
		texts := []string{r.Text}
		if len(r.Literal) > 0 {
			texts = r.Literal // the literal alternative must be exact
		}
		src := "profile svc {\n  " + texts[0] + "\n}\n"
		pf, err := parser.Parse("fuzz", []byte(src))
		if err != nil {
			t.Fatalf("rule for %q does not parse: %v\n%s", name, err, src)
		}
		pol, err := policy.NewPolicy(pf, "svc", nil)
		if err != nil {
			t.Fatal(err)
		}
		if !pol.Covers(policy.Access{Class: "file", Path: name, Perms: "r"}) {
			t.Fatalf("rule %s does not allow its own name %q", texts[0], name)
		}
		for _, other := range []string{name + "x", name + "/", "/srv/x/zz", strings.TrimSuffix(name, name[len(name)-1:]) + "Q"} {
			if other != name && pol.Covers(policy.Access{Class: "file", Path: other, Perms: "r"}) {
				t.Fatalf("rule %s for %q also allows %q", texts[0], name, other)
			}
		}
	})
}
