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
	assert.Equal(t, lint.SeverityUnknown, table.Rule(profiletest.FirstRule(t, "/etc/shadow r,")), "paths need the db")
}
