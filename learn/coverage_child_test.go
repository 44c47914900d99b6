package learn

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
)

// Where the file's exec rules run a program, as the learner routes
// complain mode's null- child of it: ix the parent, cx (and cx -> NAME)
// the child, cix the child when the file has it else the parent, px and
// ux none of the profile's, pix the parent when no profile exists.
func TestCoverageRunsUnder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "usr.bin.own"), []byte("profile own /usr/bin/own {\n}\n"), 0o644))
	const src = `profile svc flags=(complain) {
  /usr/bin/ix rix,
  /usr/bin/cx rcx,
  /usr/bin/named cx -> helper,
  /usr/bin/cix-there cix,
  /usr/bin/cix-missing cix,
  /usr/bin/own px,
  /usr/bin/pix-missing pix,
  /usr/bin/pix-own pix,
  /usr/bin/ux ux,
  /usr/bin/* r,
  deny /usr/bin/denied x,
  profile helper {
  }
  profile /usr/bin/cix-there {
  }
  ^hat {
    /usr/bin/cx cx,
  }
}
`
	f, err := parser.Parse("svc", []byte(src))
	require.NoError(t, err)
	c := NewCoverage(f, parser.ForProfileDir(dir))
	tests := []struct {
		profile, program, sub string
		ok                    bool
	}{
		{"svc", "/usr/bin/ix", "svc", true},
		{"svc", "/usr/bin/cx", "svc///usr/bin/cx", true},
		{"svc", "/usr/bin/named", "svc//helper", true},
		{"svc", "/usr/bin/cix-there", "svc///usr/bin/cix-there", true},
		{"svc", "/usr/bin/cix-missing", "svc", true},
		{"svc", "/usr/bin/own", "", true},
		{"svc", "/usr/bin/pix-missing", "svc", true},
		{"svc", "/usr/bin/ux", "", true},
		{"svc", "/usr/bin/other", "", false}, // read, not run
		{"svc", "/usr/bin/denied", "", false},
		{"svc//hat", "/usr/bin/cx", "svc//hat///usr/bin/cx", true},
		{"nope", "/usr/bin/cx", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.profile+" "+tt.program, func(t *testing.T) {
			sub, ok := c.RunsUnder(tt.profile, tt.program)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.sub, sub)
		})
	}
}

// The gate judges a child's records against the child: the kernel labels
// a program cx runs "svc///usr/bin/tool" (or "svc//helper" for cx ->
// helper), and the parent's rules do not cover it; a null- child's
// records are never covered, whatever its exec rule (ix or cx).
func TestCoverageChildRecords(t *testing.T) {
	const src = `profile svc flags=(complain) {
  /etc/parent.conf r,
  /usr/bin/tool rcx,
  /usr/bin/named cx -> helper,
  /usr/bin/ix rix,
  signal send set=(term) peer=svc///usr/bin/tool,
  profile /usr/bin/tool flags=(complain) {
    /etc/tool.conf r,
  }
  profile helper flags=(complain) {
    /etc/helper.conf r,
  }
}
`
	f, err := parser.Parse("svc", []byte(src))
	require.NoError(t, err)
	c := NewCoverage(f, parser.ForProfileDir(""))
	open := func(profile, name string) string {
		return `type=AVC msg=audit(1796589290.096:362): apparmor="ALLOWED" operation="open" class="file" profile="` + profile + `" name="` + name + `" pid=676 comm="tool" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`
	}
	signal := func(peer string) string {
		return `type=AVC msg=audit(1796589290.096:363): apparmor="ALLOWED" operation="signal" class="signal" profile="svc" pid=670 comm="svc" requested_mask="send" denied_mask="send" signal=term peer="` + peer + `"`
	}
	tests := []struct {
		name, line string
		want       bool
	}{
		{"the child's own", open("svc///usr/bin/tool", "/etc/tool.conf"), true},
		{"the parent's rule in the child", open("svc///usr/bin/tool", "/etc/parent.conf"), false},
		{"the child's rule in the parent", open("svc", "/etc/tool.conf"), false},
		{"a named child", open("svc//helper", "/etc/helper.conf"), true},
		{"a named child, the parent's rule", open("svc//helper", "/etc/parent.conf"), false},
		{"null- child of a cx program", open("svc//null-/usr/bin/tool", "/etc/tool.conf"), false},
		{"null- child of an ix program", open("svc//null-/usr/bin/ix", "/etc/parent.conf"), false},
		{"signal to the child", signal("svc///usr/bin/tool"), true},
		{"signal to the cx program's null- child: the child, as learned", signal("svc//null-/usr/bin/tool"), true},
		{"signal to the parent", signal("svc"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := audit.Parse([]byte(tt.line))
			require.NoError(t, err)
			require.NotNil(t, rec.Event)
			got, err := c.Event(rec.Event)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// px only to a profile that confines the program: a profile file for it
// that is flags=(unconfined) would run it unconfined, so it does not
// count, and the reason is given.
func TestProfileForUnconfined(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "usr.bin.free"), []byte("profile free /usr/bin/free flags=(unconfined) {\n}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "usr.bin.kept"), []byte("profile kept /usr/bin/kept flags=(complain) {\n}\n"), 0o644))
	tests := []struct {
		exe string
		ok  bool
		why string
	}{
		{"/usr/bin/free", false, "is flags=(unconfined): px would run /usr/bin/free unconfined"},
		{"/usr/bin/kept", true, ""},
		{"/usr/bin/none", false, ""},
	}
	for _, tt := range tests {
		ok, why := ProfileFor(dir, tt.exe)
		assert.Equal(t, tt.ok, ok, tt.exe)
		if tt.why == "" {
			assert.Empty(t, why, tt.exe)
		} else {
			assert.Contains(t, why, tt.why, tt.exe)
		}
	}
}

// px only to a profile that exists and confines the program, on the
// kernel capture (aatest runs /bin/busybox with no exec rule): no profile
// file, ix; a profile file whose profile is unconfined, ix with a warning
// saying why; a confining one, px, and busybox's own records are not
// aatest's; --child, cx and the child profile, which apply writes as a
// block holding busybox's records and which compiles.
func TestLearnExecTargets(t *testing.T) {
	tests := []struct {
		name, file string // file: the profile directory's bin.busybox
		child      bool
		rule, warn string
		inParent   bool // busybox's read of itself may be learned into aatest
	}{
		{"no profile", "", false, "/bin/busybox rmix,", "", true},
		{"unconfined profile", "profile busybox /bin/busybox flags=(unconfined) {\n}\n", false, "/bin/busybox rmix,", "flags=(unconfined): px would run /bin/busybox unconfined; proposed ix not px", true},
		{"confining profile", "profile busybox /bin/busybox {\n}\n", false, "/bin/busybox rmpx,", "", false},
		{"child", "", true, "/bin/busybox rmcx,", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			require.NoError(t, os.MkdirAll(e.dirs.ProfileDir, 0o755))
			if tt.file != "" {
				require.NoError(t, os.WriteFile(filepath.Join(e.dirs.ProfileDir, "bin.busybox"), []byte(tt.file), 0o644))
			}
			o := e.learn
			o.Child = tt.child
			res, err := Learn(context.Background(), "aatest", o)
			require.NoError(t, err)
			prop := res.Proposal
			assert.Contains(t, texts(prop), tt.rule)
			if tt.warn != "" {
				assert.Condition(t, func() bool {
					for _, w := range prop.Warnings {
						if strings.Contains(w, tt.warn) {
							return true
						}
					}
					return false
				}, "a warning says %q: %q", tt.warn, prop.Warnings)
			}
			for _, r := range prop.Rules {
				if !tt.inParent && r.Profile == "aatest" && r.Text != tt.rule && r.Kind != profiles.KindProfile && strings.Contains(r.Text, "/bin/busybox") {
					t.Errorf("busybox's own record folded into aatest: %s", r.Text)
				}
			}
			assert.Equal(t, []string{"/bin/busybox"}, prop.LearningChildren)
			d, err := prop.Decide(propose.Selection{All: true})
			require.NoError(t, err)
			_, err = Apply(context.Background(), e.apply, res.Target, prop, d)
			require.NoError(t, err)
			compiles(t, e.profile)
			if tt.child {
				b, err := os.ReadFile(e.profile)
				require.NoError(t, err)
				assert.Contains(t, string(b), "  profile /bin/busybox flags=(complain) {\n    owner /bin/busybox r,\n  }\n")
			}
		})
	}
}

// The child written with its cx rule leaves the pending proposal with it:
// a later apply does not find it still to do.
func TestApplyChildLeavesPending(t *testing.T) {
	e := newEnv(t)
	o := e.learn
	o.Child = true
	res, err := Learn(context.Background(), "aatest", o)
	require.NoError(t, err)
	var cx string
	for _, r := range res.Proposal.Rules {
		if r.Text == "/bin/busybox rmcx," {
			cx = r.ID
		}
	}
	require.NotEmpty(t, cx)
	_, prop, err := pending(e)
	require.NoError(t, err)
	_, err = Apply(context.Background(), e.apply, res.Target, prop, propose.Decisions{cx: propose.Accept})
	require.NoError(t, err)
	compiles(t, e.profile)
	_, prop, err = pending(e)
	require.NoError(t, err)
	for _, r := range prop.Rules {
		assert.NotEqual(t, profiles.KindProfile, r.Kind, "%s written and still pending", r.Text)
		assert.NotEqual(t, cx, r.ID)
	}
}
