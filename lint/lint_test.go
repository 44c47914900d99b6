package lint_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
)

// lintOne lints a profile whose body is rules and returns "check:severity"
// for each warning, in order.

func lintOne(t *testing.T, db *lint.SeverityDB, flags, rules string) []string {
	t.Helper()
	src := "profile svc /usr/bin/svc" + flags + " {\n" + rules + "\n}\n"
	ws := lint.Lint(profiletest.Parse(t, src), lint.LintOptions{Severity: db})
	var out []string
	for _, w := range ws {
		out = append(out, fmt.Sprintf("%s:%d", w.Check, w.Severity))
	}
	return out
}

func TestLint(t *testing.T) {
	db := loadSeverity(t)
	// severities come from severity.db where it rates the rule: /** r is
	// 9 because some path in the db rates reading at 9; /etc/** r is 8
	// (/etc/ssh/ssh_host_*key), @{PROC}/** r is 7 (/proc/kallsyms)
	tests := []struct {
		name, flags, rules string
		want               []string
	}{
		{"narrow rules are fine", "", "/etc/svc/** r,\n/var/lib/svc/** rw,\n/usr/bin/svc mr,\ncapability net_bind_service,\nnetwork inet stream,\nsignal (send) set=(term) peer=svc//worker,", nil},
		{"/** is the whole filesystem", "", "/** r,", []string{"broad-path:10", "sensitive-path:10"}},
		{"/ alone", "", "/ r,", []string{"broad-path:8"}},
		{"/**/ directories everywhere", "", "/**/ r,", []string{"broad-path:8"}},
		{"a whole top-level tree", "", "/etc/** r,", []string{"broad-path:8", "sensitive-path:8"}},
		{"a whole tree, written with a variable", "", "@{PROC}/** r,", []string{"broad-path:10", "sensitive-path:10"}},
		{"/tmp is not a top-level system tree", "", "/tmp/** rw,", nil},
		{"bare capability", "", "capability,", []string{"bare-rule:10"}},
		{"bare network", "", "network,", []string{"bare-rule:7"}},
		{"raw sockets", "", "network inet raw,", []string{"bare-rule:8"}},
		{"bare file", "", "file,", []string{"bare-rule:10"}},
		{"bare dbus", "", "dbus,", []string{"bare-rule:6"}},
		{"bare unix", "", "unix,", []string{"bare-rule:5"}},
		{"bare mount", "", "mount,", []string{"bare-rule:9"}},
		{"bare ptrace", "", "ptrace,", []string{"bare-rule:9"}},
		{"bare change_profile", "", "change_profile,", []string{"bare-rule:7"}},
		{"change_profile to unconfined", "", "change_profile -> unconfined,", []string{"unconfined-target:10"}},
		{"ux", "", "/usr/bin/helper ux,", []string{"unconfined-exec:10"}},
		{"Ux", "", "/usr/bin/helper Ux,", []string{"unconfined-exec:10"}},
		{"pux", "", "/usr/bin/helper pux,", []string{"unconfined-exec:9"}},
		{"px is fine", "", "/usr/bin/helper px,", nil},
		{"writable and executable in one rule", "", "/srv/svc/bin/* rwix,", []string{"writable-exec:9"}},
		{"writable and executable across rules", "", "/srv/svc/** rw,\n/srv/svc/bin/* ix,", []string{"writable-exec:9"}},
		{"writable and mappable", "", "/srv/svc/cache/* rwm,", []string{"writable-exec:6"}},
		{"writable elsewhere is fine", "", "/srv/svc/data/** rw,\n/srv/svc/bin/* ix,", nil},
		{"/proc/PID/mem", "", "@{PROC}/*/mem r,", []string{"sensitive-path:10"}},
		{"/proc/PID/mem with @{pid}", "", "@{PROC}/@{pid}/mem rw,", []string{"sensitive-path:10"}},
		{"/etc/shadow read", "", "/etc/shadow r,", []string{"sensitive-path:8"}},
		{"/etc/shadow write beats read", "", "/etc/shadow rw,", []string{"sensitive-path:10"}},
		{"module loader", "", "/proc/sys/kernel/modprobe w,", []string{"sensitive-path:10"}},
		{"high capabilities", "", "capability net_bind_service sys_admin setuid,", []string{"capability:10"}},
		{"moderate capabilities are fine", "", "capability net_bind_service kill,", nil},
		{"deny in complain mode", " flags=(complain)", "deny /etc/shadow r,", []string{"deny-in-complain:7"}},
		{"deny in enforce mode is fine", "", "deny /etc/shadow r,", nil},
		{"an unknown variable is reported, not guessed", "", "@{NOPE}/** r,", []string{"unknown-variable:0"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, lintOne(t, db, tt.flags, tt.rules), tt.name)
	}
}

func TestLintPositionsAndOrder(t *testing.T) {
	src := `# a test profile
@{svc_dir} = /srv/svc/

profile svc /usr/bin/svc flags=(complain) {
  /etc/svc/** r,
  @{svc_dir}/** rwix,
  capability sys_module,

  profile helper {
    network,
  }
}
`
	ws := lint.Lint(profiletest.Parse(t, src), lint.LintOptions{})
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	assert.Equal(t, []string{
		"test.profile:6:3: severity 9: [writable-exec] @{svc_dir}/** is writable and executable: the service can run code it wrote",
		"test.profile:7:3: severity 10: [capability] capability sys_module lets the service take over the host or other processes",
		"test.profile:10:5: severity 7: [bare-rule] every network family and socket type, raw and packet sockets included",
	}, got)
	require.Len(t, ws, 3)
	assert.Equal(t, "svc//helper", ws[2].Profile)
	assert.Equal(t, "network,", ws[2].Rule)
}

// Every profile Debian ships (and the extra profiles) lints, every warning
// points into its file, and the sshd profile's known broad rules are found.
func TestLintDebianProfiles(t *testing.T) {
	db := loadSeverity(t)
	var paths []string
	for _, dir := range []string{"/etc/apparmor.d", "/usr/share/apparmor/extra-profiles"} {
		entries, err := os.ReadDir(dir)
		require.NoError(t, err, "the test needs apparmor-profiles and apparmor-profiles-extra (make deps)")
		for _, e := range entries {
			if e.Type().IsRegular() && !strings.HasPrefix(e.Name(), "README") {
				paths = append(paths, filepath.Join(dir, e.Name()))
			}
		}
	}
	total := 0
	for _, p := range paths {
		f, err := parser.ParseFile(p)
		if err != nil {
			continue // the parser's own tests cover what it accepts
		}
		for _, w := range lint.Lint(f, lint.LintOptions{Severity: db}) {
			assert.Equal(t, p, w.Pos.File, w.String())
			assert.True(t, w.Pos.Line > 0, w.String())
			total++
		}
	}
	assert.Greater(t, total, 0)

	f, err := parser.ParseFile("/usr/share/apparmor/extra-profiles/usr.sbin.sshd")
	require.NoError(t, err)
	var caps []string
	for _, w := range lint.Lint(f, lint.LintOptions{Severity: db}) {
		if w.Check == lint.CheckCapability {
			caps = append(caps, w.Rule)
		}
	}
	assert.Contains(t, caps, "capability sys_chroot,")
	assert.Contains(t, caps, "capability setuid,")
	assert.NotContains(t, caps, "capability kill,")
}

func TestLintWritableExecAcrossRules(t *testing.T) {
	src := "profile svc {\n  /srv/svc/** w,\n  /srv/svc/bin/a ix,\n  /srv/svc/bin/b px,\n  /usr/bin/c ix,\n  /srv/svc/lib/*.so m,\n}\n"
	ws := lint.Lint(profiletest.Parse(t, src), lint.LintOptions{})
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	assert.Equal(t, []string{
		"test.profile:2:3: severity 9: [writable-exec] /srv/svc/** makes writable paths that other rules make executable: /srv/svc/bin/a (line 3), /srv/svc/bin/b (line 4); the service can run code it wrote",
		"test.profile:2:3: severity 6: [writable-exec] /srv/svc/** makes writable paths that other rules make mappable executable (m): /srv/svc/lib/*.so (line 6); the service can run code it wrote",
	}, got)
}

// A rule the pinned abi cannot express is left out of the compiled policy:
// lint names the feature the abi lacks.
func TestLintBeyondABI(t *testing.T) {
	read := func(n string) kernel.Features {
		f, err := kernel.ReadFeaturesFile(testutil.Corpus(t, "abi", n))
		require.NoError(t, err)
		return f
	}
	tests := []struct {
		abi, rule, want string
	}{
		{"4.0", "io_uring sqpoll,", "the pinned abi/4.0 cannot express this rule (it lacks io_uring/mask)"},
		{"4.0", "userns create,", ""},
		{"4.0", "mqueue read type=posix /q,", ""},
		{"3.0", "userns create,", "the pinned abi/3.0 cannot express this rule (it lacks namespaces/mask)"},
		{"3.0", "mqueue read type=posix /q,", "the pinned abi/3.0 cannot express this rule (it lacks ipc/posix_mqueue)"},
		{"3.0", "signal (send) set=(term) peer=foo,", ""},
	}
	for _, tt := range tests {
		t.Run(tt.abi+" "+tt.rule, func(t *testing.T) {
			f := profiletest.Parse(t, "abi <abi/"+tt.abi+">,\nprofile t {\n  "+tt.rule+"\n}\n")
			var got []string
			for _, w := range lint.Lint(f, lint.LintOptions{PinnedFeatures: read(tt.abi)}) {
				if w.Check == lint.CheckBeyondABI {
					got = append(got, w.Message)
				}
			}
			if tt.want == "" {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1)
			assert.Contains(t, got[0], tt.want)
		})
	}
}
