package profiles_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/profiles"
)

const severityDB = "/etc/apparmor/severity.db"

func loadSeverity(t *testing.T) *profiles.SeverityDB {
	t.Helper()
	db, err := profiles.LoadSeverity(severityDB)
	require.NoError(t, err, "the test needs apparmor-utils' severity.db (make deps)")
	return db
}

func TestSeverityCapability(t *testing.T) {
	db := loadSeverity(t)
	for name, want := range map[string]int{
		"sys_admin": 10, "SYS_MODULE": 10, "CAP_SYS_PTRACE": 10, "setuid": 9, "dac_override": 9,
		"net_bind_service": 8, "net_raw": 8, "dac_read_search": 7, "net_broadcast": 0,
		"no_such_cap": profiles.SeverityUnknown,
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
		{"/tmp/foo", "rw", profiles.SeverityUnknown},
		{"/etc/ssh/ssh_host_rsa_key", "r", 8},
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
		{"/etc/shadow r,", 7},
		{"/etc/* r,", 7},          // /etc/shadow*, /etc/grub.conf; '*' does not reach /etc/ssh/ssh_host_*key (8)
		{"/etc/** w,", 10},        // /etc/init.d/*, /etc/apparmor.d/** ...
		{"/home/*/.ssh/ r,", 5},   // not /home/*/.ssh/** (7): that needs a byte after .ssh/; but /**/lost+found/** (5) meets it at /home/lost+found/.ssh/
		{"@{HOME}/.ssh/** r,", 7}, // with variables
		{"@{HOME}/.ssh/** w,", 9},
		{"@{PROC}/*/mem rw,", 9},
		{"@{UNKNOWN}/x w,", 10}, // an unknown variable may be anything
		{"/** rwx,", 10},
		{"/tmp/** rw,", 5}, // /**/lost+found/**
		{"/tmp/foo rw,", profiles.SeverityUnknown},
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
		{"link /a -> /etc/shadow,", 9},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, db.Rule(firstRule(t, tt.rule)), tt.rule)
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
		_, err := profiles.ParseSeverity(strings.NewReader(tt.src), "x.db")
		assert.ErrorContains(t, err, tt.err, tt.src)
	}
	_, err := profiles.LoadSeverity(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// BenchmarkSeverityRuleFirst rates a new globbed rule: an overlap scan of
// the whole db.
func BenchmarkSeverityRuleFirst(b *testing.B) {
	db, err := profiles.LoadSeverity(severityDB)
	require.NoError(b, err)
	rule := &profiles.FileRule{Path: "/{usr/,}lib{,32,64}/**.so*", Perms: "mr"}
	for b.Loop() {
		db.WithVars(nil).Rule(rule) // a fresh result cache each time
	}
}

// BenchmarkSeverityRuleCached rates the same rule again.
func BenchmarkSeverityRuleCached(b *testing.B) {
	db, err := profiles.LoadSeverity(severityDB)
	require.NoError(b, err)
	rule := &profiles.FileRule{Path: "/{usr/,}lib{,32,64}/**.so*", Perms: "mr"}
	for b.Loop() {
		db.Rule(rule)
	}
}
