package lint_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/lint"
)

// learn and lint open the one table the same way: the default file may be
// missing (the built-in table), a file named explicitly may not, and a
// damaged one is an error naming its line either way.
func TestOpenSeverity(t *testing.T) {
	db, err := lint.OpenSeverity("")
	require.NoError(t, err)
	assert.NotNil(t, db, "Debian's apparmor-utils installs %s", lint.DefaultSeverityDB)

	_, err = lint.OpenSeverity(filepath.Join(t.TempDir(), "missing.db"))
	assert.ErrorIs(t, err, fs.ErrNotExist)

	bad := filepath.Join(t.TempDir(), "bad.db")
	require.NoError(t, os.WriteFile(bad, []byte("CAP_CHOWN 9\nCAP_SETUID eleven\n"), 0o644))
	_, err = lint.OpenSeverity(bad)
	assert.ErrorContains(t, err, "bad.db:2")
}

// Without severity.db the table still rates what it can (the fixed class
// ratings, the capabilities that own the machine), and lint reports those
// very ratings: learn, which rates with the same table, gives the same
// number for the same rule.
func TestBuiltinTableIsLintsRating(t *testing.T) {
	var table *lint.SeverityDB // no severity.db
	for _, rule := range []string{"capability sys_admin,", "capability,", "network,", "network inet raw,", "signal,", "ptrace,"} {
		t.Run(rule, func(t *testing.T) {
			want := table.Rule(profiletest.FirstRule(t, rule))
			require.NotEqual(t, lint.SeverityUnknown, want)
			ws := lint.Lint(profiletest.Parse(t, "profile t {\n  "+rule+"\n}\n"), lint.LintOptions{})
			require.NotEmpty(t, ws, rule)
			assert.Equal(t, want, ws[0].Severity, "%v", ws)
		})
	}
	assert.Equal(t, lint.SeverityUnknown, table.Rule(profiletest.FirstRule(t, "/srv/www/index.html r,")), "ordinary paths need the db")
	assert.Equal(t, 8, table.Rule(profiletest.FirstRule(t, "/etc/shadow r,")), "a sensitive object is rated without the db")
	assert.Equal(t, 10, table.Rule(profiletest.FirstRule(t, "/proc/[0-9]*/mem r,")), "a pattern is rated by what it can reach")
}

// A bare network rule means one thing up to abi/3.0 (unix sockets too) and
// another from abi/4.0 on: lint says so where the pinned and the kernel's
// ABI make the difference.
func TestLintNetworkABIChange(t *testing.T) {
	tests := []struct {
		name, abi, kernel, want string
	}{
		{"pinned 3.0, kernel 4.0", "abi <abi/3.0>,\n", "4.0", "only while the file pins abi/3.0"},
		{"pinned 4.0", "abi <abi/4.0>,\n", "", "no longer allows unix sockets"},
		{"no abi, kernel 4.0", "", "4.0", "compiled for the kernel's abi/4.0"},
		{"pinned 3.0, kernel 3.0", "abi <abi/3.0>,\n", "3.0", ""},
		{"nothing known", "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := lint.Lint(profiletest.Parse(t, tt.abi+"profile t {\n  network,\n}\n"), lint.LintOptions{KernelABI: tt.kernel})
			var got []string
			for _, w := range ws {
				if w.Check == lint.CheckABIChange {
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

// The learner rates a rule with SeverityDB.Rule; lint's sensitive-path check
// must name the same number for the same rule, literal or pattern (a write to
// an SSH key once rated 9 in learn and 10 in lint).
func TestLintAndLearnAgreeOnSensitiveObjects(t *testing.T) {
	db := loadSeverity(t)
	for _, rule := range []string{
		"/root/.ssh/authorized_keys w,",
		"/home/al/.ssh/id_rsa w,",
		"/home/al/.ssh/id_rsa r,",
		"/etc/shadow r,",
		"/etc/shadow w,",
		"@{PROC}/@{pid}/mem r,",
		"/proc/4242/environ r,",
	} {
		t.Run(rule, func(t *testing.T) {
			want := db.Rule(profiletest.FirstRule(t, rule))
			ws := lint.Lint(profiletest.Parse(t, "profile t {\n  "+rule+"\n}\n"), lint.LintOptions{Severity: db})
			got := lint.SeverityUnknown
			for _, w := range ws {
				if w.Check == lint.CheckSensitivePath {
					got = w.Severity
				}
			}
			require.NotEqual(t, lint.SeverityUnknown, got, "lint names no sensitive object: %v", ws)
			assert.Equal(t, want, got, "%v", ws)
		})
	}
}
