package propose_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/learn"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// A program the profile ran without an exec rule runs under complain
// mode's "aatest//null-/usr/bin/true" (Debian 13's kernel: the capture).
// Its records need rules where its exec rule will run it: the parent for
// ix, the child profile for cx (the file's rule or the one proposed), and
// none of the profile's for px. Whatever the rule, the learned profile
// compiles and grants each record in the (sub)profile the kernel will run
// it in.
func TestProposeChildRecords(t *testing.T) {
	all := readTagged(t, testutil.Corpus(t, "kernel", "debian-6.12-audit.log"), "")
	var events []*audit.Event
	for _, e := range all {
		if e.Mode == audit.ModeAllowed && strings.HasPrefix(e.ProfileName(), "aatest") {
			events = append(events, e)
		}
	}
	const plain = "profile aatest flags=(complain) {\n}\n"
	const withCx = "profile aatest flags=(complain) {\n  /usr/bin/true rcx,\n  /usr/bin/sleep rix,\n  profile /usr/bin/true flags=(complain) {\n  }\n}\n"
	const withCxOnly = "profile aatest flags=(complain) {\n  /usr/bin/true rcx,\n  /usr/bin/sleep rix,\n}\n"
	px := func(p string) (bool, string) { return p == "/usr/bin/true", "" }
	tests := []struct {
		name string
		src  string
		opts propose.ProposeOptions
		// runs is where each program's records must be granted: the
		// (sub)profile, "" for none of aatest's.
		runs map[string]string
	}{
		{"ix", plain, propose.ProposeOptions{},
			map[string]string{"/usr/bin/true": "aatest", "/usr/bin/sleep": "aatest"}},
		{"cx proposed", plain, propose.ProposeOptions{ChildExec: true},
			map[string]string{"/usr/bin/true": "aatest///usr/bin/true", "/usr/bin/sleep": "aatest///usr/bin/sleep"}},
		{"cx in the file", withCx, fileOptions(t, withCx),
			map[string]string{"/usr/bin/true": "aatest///usr/bin/true", "/usr/bin/sleep": "aatest"}},
		{"cx in the file, its child not yet", withCxOnly, fileOptions(t, withCxOnly),
			map[string]string{"/usr/bin/true": "aatest///usr/bin/true", "/usr/bin/sleep": "aatest"}},
		{"px", plain, propose.ProposeOptions{ProfileFor: px},
			map[string]string{"/usr/bin/true": "", "/usr/bin/sleep": "aatest"}},
	}
	// The host's parser (3.0) has no userns rules.
	abi30, err := kernel.ReadFeaturesFile("/etc/apparmor.d/abi/3.0")
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.ABI, tt.opts.ABIFeatures = "abi/3.0", abi30
			out, prop := learnInto(t, tt.src, "aatest", events, tt.opts)
			profiletest.Compile(t, out)
			assert.Equal(t, []string{"/usr/bin/sleep", "/usr/bin/true"}, prop.LearningChildren, "the evidence stays incomplete until they restart")
			f, err := parser.Parse("learned", []byte(out))
			require.NoError(t, err)
			parent, err := policy.NewPolicy(f, "aatest", nil)
			require.NoError(t, err)
			// own are the files the parent's own records ask for, its
			// own and those of the programs it runs as itself (ix).
			own := map[string]bool{}
			for _, e := range events {
				prog, null := propose.LearningChild(e.ProfileName(), "aatest")
				if !null || tt.runs[prog] == "aatest" {
					for _, a := range propose.Accesses(e, "aatest") {
						own[a.Path] = true
					}
				}
			}
			checked := 0
			for _, e := range events {
				prog, null := propose.LearningChild(e.ProfileName(), "aatest")
				if !null {
					continue
				}
				sub := tt.runs[prog]
				for _, a := range propose.Accesses(e, "aatest") {
					if sub != "" {
						pol, err := policy.NewPolicy(f, sub, nil)
						require.NoError(t, err, sub)
						assert.True(t, pol.Covers(a), "%s:%d: %s %s of %s not granted in %s", e.Source, e.Line, a.Path, a.Perms, prog, sub)
						checked++
					}
					if sub != "aatest" && a.Class == policy.ClassFile && !own[a.Path] {
						assert.False(t, parent.Covers(a), "%s:%d: %s of %s folded into the parent", e.Source, e.Line, a.Path, prog)
						checked++
					}
				}
			}
			assert.NotZero(t, checked)
		})
	}
}

// fileOptions are the options learn wires for a profile file: its policy
// (Covers) and its exec rules (RunsUnder).
func fileOptions(t *testing.T, src string) propose.ProposeOptions {
	t.Helper()
	f, err := parser.Parse("test.profile", []byte(src))
	require.NoError(t, err)
	cov := learn.NewCoverage(f, parser.ForProfileDir(""))
	return propose.ProposeOptions{Covers: cov.Covers, RunsUnder: cov.RunsUnder}
}

// A cx rule is written with the child it runs the program in: the child
// comes with every accepted rule that needs it, also when only the cx
// rule or only a rule of the child is named, and survives proposal.json.
// A new child grants nothing by itself; --yes (Selection All) takes it
// with the rest.
func TestApplyWritesTheChild(t *testing.T) {
	exec := &audit.Event{Mode: audit.ModeAllowed, Operation: "exec", Profile: "svc", Name: "/usr/bin/tool", Target: "svc//null-/usr/bin/tool", RequestedMask: "x", FSUID: 0, OUID: 0}
	conf := &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc//null-/usr/bin/tool", Name: "/etc/tool.conf", RequestedMask: "r", FSUID: 0, OUID: 1}
	own := &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: "svc", Name: "/etc/svc.conf", RequestedMask: "r", FSUID: 0, OUID: 1}
	const src = "profile svc flags=(complain) {\n}\n"
	f, err := parser.Parse("svc", []byte(src))
	require.NoError(t, err)
	prop, err := propose.Propose(f, "svc", []*audit.Event{exec, conf, own}, propose.ProposeOptions{ChildExec: true})
	require.NoError(t, err)
	b, err := prop.Marshal()
	require.NoError(t, err)
	prop, err = propose.UnmarshalProposal("svc", b)
	require.NoError(t, err)
	id := func(profile, text string) string {
		for _, r := range prop.Rules {
			if r.Profile == profile && r.Text == text {
				return r.ID
			}
		}
		t.Fatalf("no rule %q in %s: %v", text, profile, texts(prop))
		return ""
	}
	cx, child := id("svc", "/usr/bin/tool rmcx,"), id("svc", "profile /usr/bin/tool flags=(complain) { }")
	inChild, inParent := id("svc///usr/bin/tool", "/etc/tool.conf r,"), id("svc", "/etc/svc.conf r,")
	assert.Equal(t, "svc///usr/bin/tool", prop.Find(child).Child)
	assert.Equal(t, "svc///usr/bin/tool", prop.Find(cx).Child)
	assert.Empty(t, prop.Find(child).Held, "a new child is no widening")
	tests := []struct {
		name string
		d    propose.Decisions
		want []string // the rules written, by ID
	}{
		{"all", nil, []string{cx, child, inChild, inParent}},
		{"the cx rule alone", propose.Decisions{cx: propose.Accept}, []string{cx, child}},
		{"the child rejected", propose.Decisions{cx: propose.Accept, child: propose.Reject}, []string{cx, child}},
		{"a rule of the child", propose.Decisions{inChild: propose.Accept}, []string{child, inChild}},
		{"the parent's own", propose.Decisions{inParent: propose.Accept}, []string{inParent}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			if d == nil {
				d, err = prop.Decide(propose.Selection{All: true})
				require.NoError(t, err)
			}
			chosen := prop.Apply(d)
			var got []string
			for _, c := range chosen {
				got = append(got, c.IDs...)
			}
			assert.ElementsMatch(t, tt.want, got)
			out, err := parser.InsertRules([]byte(src), f, chosen, "")
			require.NoError(t, err)
			profiletest.Compile(t, string(out))
		})
	}
}

// With --child, a program the child runs inherits the child (ix): child
// profiles are not nested, and everything the proposal writes compiles.
// Records as Debian 13's kernel writes them for svc running tool running
// cat, none of them with an exec rule yet.
func TestProposeChildsPrograms(t *testing.T) {
	const log = `type=AVC msg=audit(1796589290.096:362): apparmor="ALLOWED" operation="exec" class="file" profile="svc" name="/usr/bin/tool" pid=676 comm="svc" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="svc//null-/usr/bin/tool"
type=AVC msg=audit(1796589290.097:363): apparmor="ALLOWED" operation="open" class="file" profile="svc//null-/usr/bin/tool" name="/etc/tool.conf" pid=676 comm="tool" requested_mask="r" denied_mask="r" fsuid=0 ouid=0
type=AVC msg=audit(1796589290.098:364): apparmor="ALLOWED" operation="exec" class="file" profile="svc//null-/usr/bin/tool" name="/usr/bin/cat" pid=677 comm="tool" requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="svc//null-/usr/bin/tool//null-/usr/bin/cat"
type=AVC msg=audit(1796589290.099:365): apparmor="ALLOWED" operation="open" class="file" profile="svc//null-/usr/bin/tool//null-/usr/bin/cat" name="/var/lib/tool/data" pid=677 comm="cat" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	out, prop := learnInto(t, "profile svc flags=(complain) {\n}\n", "svc", decodeAll([]byte(log), "audit.log"), propose.ProposeOptions{ChildExec: true})
	profiletest.Compile(t, out)
	got := map[string][]string{}
	for _, r := range prop.Rules {
		got[r.Profile] = append(got[r.Profile], r.Text)
	}
	assert.Equal(t, map[string][]string{
		"svc":                {"/usr/bin/tool rmcx,", "profile /usr/bin/tool flags=(complain) { }"},
		"svc///usr/bin/tool": {"/usr/bin/cat rmix,", "owner /etc/tool.conf r,", "owner /var/lib/tool/data r,"},
	}, got)
	assert.Equal(t, []string{"/usr/bin/cat", "/usr/bin/tool"}, prop.LearningChildren)
}
