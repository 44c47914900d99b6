package rollout

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
)

const handWritten = `# web: hand-written, keep my comments
abi <abi/3.0>,
include <tunables/global>

# flags=(complain) in a comment is not a flag {
profile web /usr/{bin,sbin}/web   flags=(attach_disconnected,complain)   {
  include <abstractions/base>   # base { stuff
  /usr/{bin,sbin}/web mr,
  "/srv/my data/**" r,

  profile helper /usr/lib/web/helper flags=(complain) {
    /usr/lib/web/helper mr,
  }

  ^cgi {
    /srv/cgi/** r,
  }
}

profile other /usr/bin/other flags=(complain) {
  /usr/bin/other mr,
}
`

func TestSetModeHandWritten(t *testing.T) {
	enforced, err := SetMode([]byte(handWritten), "web", ModeEnforce)
	require.NoError(t, err)
	want := strings.NewReplacer(
		"   flags=(attach_disconnected,complain)   {", "   flags=(attach_disconnected)   {",
		"/usr/lib/web/helper flags=(complain) {", "/usr/lib/web/helper {",
	).Replace(handWritten)
	assert.Equal(t, want, string(enforced), "only the flags of web and its children change")
	assert.Contains(t, string(enforced), "profile other /usr/bin/other flags=(complain) {", "another profile in the file is left alone")

	modes, err := Modes(enforced, "web")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"web": "enforce", "web//helper": "enforce", "web//cgi": "enforce"}, modes)

	back, err := SetMode(enforced, "web", ModeComplain)
	require.NoError(t, err)
	modes, err = Modes(back, "web")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"web": "complain", "web//helper": "complain", "web//cgi": "complain"}, modes)
	assert.Contains(t, string(back), "   flags=(attach_disconnected, complain)   {")
	assert.Contains(t, string(back), "  ^cgi flags=(complain) {")
	assert.Contains(t, string(back), "# flags=(complain) in a comment is not a flag {")

	// Already in the mode: unchanged.
	again, err := SetMode(back, "web", ModeComplain)
	require.NoError(t, err)
	assert.Equal(t, back, again)

	// The person's separator is kept.
	c, err := SetMode([]byte("profile x flags=(audit,attach_disconnected) {\n}\n"), "x", ModeComplain)
	require.NoError(t, err)
	assert.Equal(t, "profile x flags=(audit,attach_disconnected,complain) {\n}\n", string(c))

	// The old "(flags)" form is edited in place.
	c, err = SetMode([]byte("/usr/bin/foo (complain,attach_disconnected) {\n}\n"), "/usr/bin/foo", ModeEnforce)
	require.NoError(t, err)
	assert.Equal(t, "/usr/bin/foo (attach_disconnected) {\n}\n", string(c))
	c, err = SetMode([]byte("/usr/bin/foo (complain) {\n}\n"), "/usr/bin/foo", ModeEnforce)
	require.NoError(t, err)
	assert.Equal(t, "/usr/bin/foo {\n}\n", string(c))

	// A spaced key = (group) is not the old flags form.
	for _, xa := range []string{"xattrs=(user.x=1)", "xattrs = (user.x=1)"} {
		c, err = SetMode([]byte("profile foo /usr/bin/foo "+xa+" {\n}\n"), "foo", ModeComplain)
		require.NoError(t, err)
		assert.Equal(t, "profile foo /usr/bin/foo "+xa+" flags=(complain) {\n}\n", string(c))
	}

	_, err = SetMode([]byte(handWritten), "nope", ModeEnforce)
	assert.ErrorContains(t, err, `no profile "nope"`)
	_, err = SetMode([]byte(handWritten), "web", "kill")
	assert.Error(t, err)
}

// TestSetModeDebianProfiles flips real profiles (a child profile in
// dnsmasq, hats in httpd2-prefork) both ways: the flipped text compiles,
// every profile reports the new mode, and flipping back to the original mode
// compiles to the same policy as the original.
func TestSetModeDebianProfiles(t *testing.T) {
	needParser(t)
	tests := []struct {
		path, name string
		orig       string
		children   int
	}{
		{"/etc/apparmor.d/usr.sbin.dnsmasq", "dnsmasq", ModeComplain, 1},
		{"/usr/share/apparmor/extra-profiles/usr.sbin.httpd2-prefork", "/usr/sbin/httpd2-prefork", ModeEnforce, 2},
	}
	r := &aaparser.Runner{FeaturesFile: aaparser.ABI30Features}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := os.ReadFile(tt.path)
			require.NoError(t, err)
			other := ModeEnforce
			if tt.orig == ModeEnforce {
				other = ModeComplain
			}
			flipped, err := SetMode(src, tt.name, other)
			require.NoError(t, err)
			modes, err := Modes(flipped, tt.name)
			require.NoError(t, err)
			assert.Len(t, modes, 1+tt.children)
			for n, m := range modes {
				assert.Equal(t, other, m, n)
			}
			_, err = r.Compile(ctx, "flipped", flipped)
			require.NoError(t, err)
			assert.Equal(t, lineCount(src), lineCount(flipped), "a flags edit never adds or removes lines")

			back, err := SetMode(flipped, tt.name, tt.orig)
			require.NoError(t, err)
			a, err := r.Compile(ctx, "orig", src)
			require.NoError(t, err)
			b, err := r.Compile(ctx, "back", back)
			require.NoError(t, err)
			assert.Equal(t, a, b, "flipping back compiles to the original policy")
		})
	}
}

func lineCount(b []byte) int { return strings.Count(string(b), "\n") }

func TestModeOf(t *testing.T) {
	assert.Equal(t, "complain", ModeOf([]byte(handWritten), "web"))
	assert.Equal(t, "enforce", ModeOf([]byte("profile x {\n}\n"), "x"))
	assert.Equal(t, "kill", ModeOf([]byte("profile x flags=(kill) {\n}\n"), "x"))
	// Text the parser cannot read falls back to the header.
	assert.Equal(t, "complain", ModeOf([]byte("profile x flags=(complain) {\n  @@@ garbage (\n"), "x"))
}

// Removing the flags must leave the brace apart from the name, also when the
// person wrote no blank between ")" and "{".
func TestSetModeNoBlankBeforeBrace(t *testing.T) {
	tests := []struct {
		src, name, mode, want string
	}{
		{"profile foo flags=(complain){}\n", "foo", ModeEnforce, "profile foo {}\n"},
		{"/usr/bin/foo flags=(complain){}\n", "/usr/bin/foo", ModeEnforce, "/usr/bin/foo {}\n"},
		{"/usr/bin/foo (complain){}\n", "/usr/bin/foo", ModeEnforce, "/usr/bin/foo {}\n"},
		{"profile foo flags=(complain) {}\n", "foo", ModeEnforce, "profile foo {}\n"},
		{"profile foo flags=(complain,attach_disconnected){}\n", "foo", ModeEnforce, "profile foo flags=(attach_disconnected){}\n"},
		{"profile foo {}\n", "foo", ModeComplain, "profile foo flags=(complain) {}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			out, err := SetMode([]byte(tt.src), tt.name, tt.mode)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(out))
		})
	}
}

// Parentheses inside a profile's name are part of the name, not flags.
func TestSetModeParenInName(t *testing.T) {
	for _, tt := range []struct{ src, name, mode, want string }{
		{"/opt/a(b {}\n", "/opt/a(b", ModeComplain, "/opt/a(b flags=(complain) {}\n"},
		{"/opt/a(b) flags=(complain) {}\n", "/opt/a(b)", ModeEnforce, "/opt/a(b) {}\n"},
		{"profile x(1) /usr/bin/x (complain) {}\n", "x(1)", ModeEnforce, "profile x(1) /usr/bin/x {}\n"},
		// flags= without parentheses (rejected by apparmor_parser 3.0)
		// comes back with them.
		{"profile x flags=audit {}\n", "x", ModeComplain, "profile x flags=(audit, complain) {}\n"},
		{"profile x flags=complain {}\n", "x", ModeEnforce, "profile x {}\n"},
		// An escaped blank ends a name: the flags go after it (found by
		// FuzzSetMode: "^\\ " is a hat named " ").
		{"profile x {^\\   {}}\n", "x", ModeComplain, "profile x flags=(complain) {^\\  flags=(complain)  {}}\n"},
		{"profile a\\ b\\  {}\n", "a b ", ModeComplain, "profile a\\ b\\  flags=(complain) {}\n"},
		{"profile a\\  flags=(complain) {}\n", "a ", ModeEnforce, "profile a\\  {}\n"},
	} {
		out, err := SetMode([]byte(tt.src), tt.name, tt.mode)
		require.NoError(t, err, tt.src)
		assert.Equal(t, tt.want, string(out))
	}
}

// A flag that is not a plain word is refused, whatever the requested mode:
// aa-flow does not rewrite a header it cannot write back safely.
func TestSetModeRefusesStrangeFlags(t *testing.T) {
	for _, mode := range []string{ModeComplain, ModeEnforce} {
		_, err := SetMode([]byte("profile x flags=0( {}\n"), "x", mode)
		require.Error(t, err, mode)
		assert.Contains(t, err.Error(), `flag "0("`)
	}
}
