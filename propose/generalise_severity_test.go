package propose_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/propose"
)

// Generalisation with the host's severity.db: a suggestion is kept only
// when it reaches nothing more dangerous than the literal paths it
// replaces.
func TestGeneraliseSeverityGuard(t *testing.T) {
	sev, err := lint.LoadSeverity("/etc/apparmor/severity.db")
	require.NoError(t, err)
	vars := tunablesVars()
	sev = sev.WithVars(vars)
	many := func(format string, n int) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, fmt.Sprintf(format, i))
		}
		return out
	}
	cases := []struct {
		name  string
		paths []string
		perms string
		want  []string // the proposed rule texts
	}{
		{"proc pid stat", []string{"/proc/812/stat", "/proc/813/stat"}, "r", []string{"owner @{PROC}/@{pid}/stat r,"}},
		// @{HOME}/ is /home/*/, which also names /home/lost+found/ (rated 5
		// by /**/lost+found/**); a home rule rates as the homes it was
		// learned from (4), not as lost+found.
		{"home config", []string{"/home/alice/.config/app/settings.ini"}, "r", []string{"owner @{HOME}/.config/app/settings.ini r,"}},
		{"homes of several users and root's", []string{"/home/alice/.config/app/settings.ini", "/home/bob/.config/app/settings.ini", "/root/.config/app/settings.ini"}, "r",
			[]string{"owner @{HOME}/.config/app/settings.ini r,"}},
		{"home ssh stays as dangerous as its literal", []string{"/home/alice/.ssh/known_hosts"}, "r", []string{"owner @{HOME}/.ssh/known_hosts r,"}},
		{"versioned library", []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}, "mr", []string{"owner /usr/lib/x86_64-linux-gnu/libssl.so.[0-9]* rm,"}},
		{"spool siblings", many("/var/spool/app/q%02d", 8), "rw", []string{"owner /var/spool/app/q[0-9]* rw,"}},
		{"etc/ssh siblings would reach the host keys", []string{"/etc/ssh/moduli", "/etc/ssh/ssh_config", "/etc/ssh/sshd_config", "/etc/ssh/a", "/etc/ssh/b", "/etc/ssh/c", "/etc/ssh/d", "/etc/ssh/e"}, "r",
			[]string{"owner /etc/ssh/a r,", "owner /etc/ssh/b r,", "owner /etc/ssh/c r,", "owner /etc/ssh/d r,", "owner /etc/ssh/e r,", "owner /etc/ssh/moduli r,", "owner /etc/ssh/ssh_config r,", "owner /etc/ssh/sshd_config r,"}},
		{"log siblings writable", many("/var/log/app/%d.log", 8), "w", []string{"owner /var/log/app/[0-9]*.log w,"}},
		{"top-level siblings are never globbed", many("/srv%d", 9), "r", many("owner /srv%d r,", 9)},
		{"mktemp name", []string{"/tmp/tmp.Xk3fQ9aLpZ/out"}, "w", []string{"owner /tmp/tmp.??????????/out w,"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var events []*audit.Event
			for i, p := range tc.paths {
				events = append(events, fileEvent(p, tc.perms, int64(i+1), true))
			}
			prop, err := propose.Propose(nil, "svc", events, propose.ProposeOptions{Severity: sev, Vars: vars})
			require.NoError(t, err)
			assert.ElementsMatch(t, tc.want, texts(prop))
			for _, r := range prop.Rules {
				if r.Generalisation == "" {
					continue
				}
				// Never more dangerous than the literals it replaces.
				require.NotEmpty(t, r.Replaces)
				worst := -1
				for _, l := range r.Replaces {
					worst = max(worst, sev.Path(l, tc.perms))
				}
				assert.LessOrEqual(t, r.Severity, worst, r.Text)
				assert.Len(t, r.Literal, len(r.Replaces))
			}
		})
	}
}
