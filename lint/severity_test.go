package lint_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/profiletest"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/profiles"
)

const severityDB = "/etc/apparmor/severity.db"

func loadSeverity(t *testing.T) *lint.SeverityDB {
	t.Helper()
	db, err := lint.LoadSeverity(severityDB)
	require.NoError(t, err, "the test needs apparmor-utils' severity.db (make deps)")
	return db
}

func TestSeverityCapability(t *testing.T) {
	db := loadSeverity(t)
	for name, want := range map[string]int{
		"sys_admin": 10, "SYS_MODULE": 10, "CAP_SYS_PTRACE": 10, "setuid": 9, "dac_override": 9,
		"net_bind_service": 8, "net_raw": 8, "dac_read_search": 7, "net_broadcast": 0,
		"no_such_cap": lint.SeverityUnknown,
	} {
		assert.Equal(t, want, db.Capability(name), name)
	}
}

func TestSeverityPath(t *testing.T) {
	db := loadSeverity(t)
	tests := []struct {
		path, perms string
		want        int
	}{
		{"/etc/shadow", "r", 7}, // /etc/shadow* 7 9 0 (and 5 9 0: the maximum wins)
		{"/etc/shadow", "w", 9},
		{"/etc/shadow", "rw", 9},
		{"/etc/shadow-", "r", 7},
		{"/etc/shadow", "a", 9}, // append is a write
		{"/proc/sys/kernel/modprobe", "w", 10},
		{"/proc/sys/kernel/modprobe", "r", 6}, // /proc/** reads at 6 beat the entry's 2
		{"/proc/1/mem", "r", 6},
		{"/home/al/.ssh/id_rsa", "r", 7},
		{"/home/al/.ssh/id_rsa", "w", 9},
		{"/home/al/notes.txt", "r", 4},
		{"/dev/mem", "r", 8}, // /dev/*mem: '*' is not the whole component, so it may be empty
		{"/dev/kmem", "r", 8},
		{"/dev/kmem", "w", 10},
		{"/usr/lib/libfoo.so.1", "r", 3},
		{"/usr/lib/libfoo.so.1", "m", 4}, // m maps executable: the x column
		{"/tmp/foo", "rw", lint.SeverityUnknown},
		{"/etc/ssh/ssh_host_rsa_key", "r", 8},
		{"/usr/lib/x86_64-linux-gnu/libc.so.6", "mr", lint.SeverityUnknown}, // no entry: /usr/lib/lib*so* is one level up
		{"/proc/sys/kernel/hostname", "r", 6},
		{"/proc/sys/kernel/hostname", "w", 9},
		{"/home/al/.ssh/", "r", 4}, // the directory: /home/*/.ssh/** needs a byte after it
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, db.Path(tt.path, tt.perms), "%s %s", tt.path, tt.perms)
	}
}

func TestSeverityRule(t *testing.T) {
	db := loadSeverity(t).WithVars(profiles.Vars{
		"HOME": {"@{HOMEDIRS}/*/", "/root/"}, "HOMEDIRS": {"/home/"}, "PROC": {"/proc/"},
	})
	tests := []struct {
		rule string
		want int
	}{
		{"/etc/shadow r,", 8},     // the sensitive object /etc/shadow outranks severity.db's 7
		{"/etc/* r,", 8},          // reaches /etc/shadow, a sensitive object (8); '*' does not reach /etc/ssh/ssh_host_*key
		{"/etc/** w,", 10},        // /etc/init.d/*, /etc/apparmor.d/** ...
		{"/home/*/.ssh/ r,", 5},   // not /home/*/.ssh/** (7): that needs a byte after .ssh/; but /**/lost+found/** (5) meets it at /home/lost+found/.ssh/
		{"@{HOME}/.ssh/** r,", 8}, // with variables: reaches the users' private keys
		{"@{HOME}/.ssh/** w,", 10},
		{"@{PROC}/*/mem rw,", 10},
		{"/proc/sys/kernel/* r,", 6},
		{"/proc/sys/kernel/* w,", 10}, // reaches /proc/sys/kernel/modprobe and hotplug
		{"/usr/lib/x86_64-linux-gnu/libc.so.6 mr,", lint.SeverityUnknown},
		{"/{usr/,}lib{,32,64}/**.so* mr,", 8}, // m maps executable: /usr/lib/lsb/** rates exec 8
		{"@{UNKNOWN}/x w,", 10},               // an unknown variable may be anything
		{"/** rwx,", 10},
		{"/tmp/** rw,", 5}, // /**/lost+found/**
		{"/tmp/foo rw,", lint.SeverityUnknown},
		{"/usr/bin/foo ux,", 10},
		{"/usr/bin/foo pux,", 10},
		{"deny /etc/shadow r,", 0},
		{"file,", 10},
		{"capability,", 10},
		{"capability net_bind_service chown,", 9},
		{"capability net_broadcast,", 0},
		{"network,", 7},
		{"network inet stream,", 4},
		{"network packet,", 8},
		{"network inet,", 8},
		{"ptrace (read) peer=foo,", 6},
		{"ptrace,", 9},
		{"signal,", 6},
		{"signal (send) set=(term) peer=foo,", 3},
		{"mount,", 9},
		{"umount /mnt/,", 7},
		{"change_profile,", 7},
		{"change_profile -> foo,", 5},
		{"link /a -> /etc/shadow,", 10},
		{"userns create,", 7},
		{"io_uring sqpoll,", 3},
		{"io_uring,", 8},
		{"io_uring override_creds,", 8},
		{"io_uring override_creds label=*,", 8},
		{"io_uring override_creds label=/usr/sbin/svc,", 5},
		{"mqueue read type=posix /q,", 3},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, db.Rule(profiletest.FirstRule(t, tt.rule)), tt.rule)
	}
}

func TestSeverityErrors(t *testing.T) {
	tests := []struct{ src, err string }{
		{"CAP_SYS_ADMIN 10\nCAP_X\n", "x.db:2: capability line needs NAME SEVERITY"},
		{"# c\n\nCAP_X 11\n", "x.db:3: CAP_X: severity \"11\" is not a number from 0 to 10"},
		{"/etc/x 1 2\n", "x.db:1: path line needs PATH READ WRITE EXEC"},
		{"/etc/x 1 2 z\n", "x.db:1: /etc/x: severity \"z\""},
		{"/etc/{x 1 2 3\n", "x.db:1: glob \"/etc/{x\""},
		{"bogus 1\n", "x.db:1: unexpected line"},
	}
	for _, tt := range tests {
		_, err := lint.ParseSeverity(strings.NewReader(tt.src), "x.db")
		assert.ErrorContains(t, err, tt.err, tt.src)
	}
	_, err := lint.LoadSeverity(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// BenchmarkSeverityRuleFirst rates a new globbed rule: an overlap scan of
// the whole db.
func BenchmarkSeverityRuleFirst(b *testing.B) {
	db, err := lint.LoadSeverity(severityDB)
	require.NoError(b, err)
	rule := &profiles.FileRule{Path: "/{usr/,}lib{,32,64}/**.so*", Perms: "mr"}
	for b.Loop() {
		db.WithVars(nil).Rule(rule) // a fresh result cache each time
	}
}

// BenchmarkSeverityRuleCached rates the same rule again.
func BenchmarkSeverityRuleCached(b *testing.B) {
	db, err := lint.LoadSeverity(severityDB)
	require.NoError(b, err)
	rule := &profiles.FileRule{Path: "/{usr/,}lib{,32,64}/**.so*", Perms: "mr"}
	for b.Loop() {
		db.Rule(rule)
	}
}

// python3-apparmor's Severity.rank_path takes the most specific entry where
// Path takes the maximum: they must agree when one entry matches, and Path
// is never below python otherwise.
func TestSeverityPythonOracle(t *testing.T) {
	db := loadSeverity(t)
	paths := []string{
		"/etc/shadow", "/etc/passwd", "/etc/group-", "/etc/sudoers", "/etc/fstab", "/etc/ssh/sshd_config",
		"/etc/ssh/ssh_host_ed25519_key", "/etc/apparmor.d/usr.bin.x", "/etc/cron.d/x", "/etc/resolv.conf",
		"/proc/sys/kernel/modprobe", "/proc/sys/kernel/hostname", "/proc/kallsyms", "/proc/1/mem",
		"/sys/power/state", "/sys/firmware/efi/x", "/sys/class/net/eth0", "/dev/kmem", "/dev/sda1",
		"/home/al/.ssh/id_rsa", "/home/al/.gnupg/pubring.kbx", "/home/al/x", "/boot/vmlinuz",
		"/var/log/syslog", "/usr/share/doc/x", "/usr/lib/libc.so.6", "/tmp/foo", "/srv/www/index.html",
	}
	var in strings.Builder
	for _, p := range paths {
		in.WriteString(p + "\n")
	}
	script := `
import sys
from apparmor.severity import Severity
s = Severity("` + severityDB + `", -1)
for line in sys.stdin:
    p = line.strip()
    print(s.rank_path(p, "r"), s.rank_path(p, "w"))
`
	cmd := exec.Command("/usr/bin/python3", "-c", script)
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "python3-apparmor (make deps): %s", out)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Len(t, lines, len(paths))
	for i, p := range paths {
		var pr, pw int
		_, err := fmt.Sscanf(lines[i], "%d %d", &pr, &pw)
		require.NoError(t, err, lines[i])
		r, w := db.Path(p, "r"), db.Path(p, "w")
		if len(db.Matching(p)) <= 1 {
			assert.Equal(t, []int{pr, pw}, []int{r, w}, "%s (entries %v)", p, db.Matching(p))
			continue
		}
		assert.GreaterOrEqual(t, r, pr, "%s read (entries %v)", p, db.Matching(p))
		assert.GreaterOrEqual(t, w, pw, "%s write (entries %v)", p, db.Matching(p))
	}
}
