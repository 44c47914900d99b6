package audit

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func extra(e *Event, key string) string {
	for _, kv := range e.Extra {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

func TestParseSeccomp(t *testing.T) {
	for _, tc := range []struct {
		name, line   string
		subj, arch   string
		syscall, pid int64
		comm, exe    string
		serial       uint64
		code         string
	}{
		{"auditd, AppArmor label with its mode",
			`type=SECCOMP msg=audit(1740535410.396:1727850): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=web (complain) pid=3315793 comm="chmod" exe="/bin/chmod" sig=0 arch=c000003e syscall=268 compat=0 ip=0x7fd8c219ef24 code=0x7ffc0000`,
			"web (complain)", "c000003e", 268, 3315793, "chmod", "/bin/chmod", 1727850, "0x7ffc0000"},
		{"auditd enriched, double = in subj",
			"type=SECCOMP msg=audit(1613596317.899:6461): auid=4294967295 uid=0 gid=0 ses=4294967295 subj==web (enforce) pid=2039886 comm=\"ls\" exe=\"/bin/ls\" sig=0 arch=c000003e syscall=3 compat=0 ip=0x7f62dce3d4c7 code=0x7ffc0000\x1dAUID=\"unset\" UID=\"root\" ARCH=x86_64 SYSCALL=close",
			"=web (enforce)", "c000003e", 3, 2039886, "ls", "/bin/ls", 6461, "0x7ffc0000"},
		{"kernel log, no subj",
			`Jul  8 10:31:23 host kernel: [  270.853767] audit: type=1326 audit(1625740283.502:574): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4709 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=13 compat=0 ip=0x7f3c012e467b code=0x7ffc0000`,
			"", "c000003e", 13, 4709, "sh", "/bin/busybox", 574, "0x7ffc0000"},
		{"kmsg, aarch64, refused with EPERM",
			`6,2231,91800000,-;audit: type=1326 audit(1765051200.100:90): auid=0 uid=0 gid=0 ses=1 subj=web (enforce) pid=77 comm="strace" exe="/usr/bin/strace" sig=0 arch=c00000b7 syscall=117 compat=0 ip=0xffff8a0b1c2c code=0x50001`,
			"web (enforce)", "c00000b7", 117, 77, "strace", "/usr/bin/strace", 90, "0x50001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse([]byte(tc.line))
			require.NoError(t, err)
			require.NotNil(t, r)
			e := r.Event
			require.NotNil(t, e)
			assert.Equal(t, TypeSeccomp, e.Type)
			assert.Equal(t, tc.subj, extra(e, "subj"))
			assert.Equal(t, tc.arch, extra(e, "arch"))
			assert.Equal(t, tc.code, extra(e, "code"))
			assert.Equal(t, tc.syscall, e.Syscall)
			assert.Equal(t, tc.pid, e.PID)
			assert.Equal(t, tc.comm, e.Comm)
			assert.Equal(t, tc.exe, e.Exe)
			assert.Equal(t, tc.serial, e.Serial)
			assert.Empty(t, extra(e, "AUID"), "auditd's interpretations are not read")
		})
	}

	// journald's audit transport: the type word first, the stamp from the entry.
	r, err := ParseMessage([]byte(`SECCOMP auid=0 uid=0 gid=0 ses=1 subj=web (complain) pid=9 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=0 compat=0 ip=0x1 code=0x7ffc0000`),
		MessageDefaults{Time: time.Unix(1765051200, 0), Serial: 12})
	require.NoError(t, err)
	assert.Equal(t, TypeSeccomp, r.Event.Type)
	assert.Equal(t, uint64(12), r.Event.Serial)
	assert.Equal(t, int64(0), r.Event.Syscall)

	_, err = Parse([]byte(`type=SECCOMP msg=audit(1740535410.396:1): pid=1 comm="sh`))
	assert.Error(t, err)
	_, err = Parse([]byte(`type=SECCOMP msg=audit(1740535410.396:1): pid=1 comm="sh" arch=c000003e`))
	assert.Error(t, err, "no syscall=")
}

// Read returns SECCOMP records only when asked, and then only those.
func TestReadSeccompOptIn(t *testing.T) {
	log := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(strings.Join([]string{
		`type=AVC msg=audit(1765051200.100:1): apparmor="ALLOWED" operation="open" class="file" profile="web" name="/etc/hosts" pid=9 comm="sh" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`,
		`type=SECCOMP msg=audit(1765051200.200:2): auid=0 uid=0 gid=0 ses=1 subj=web (complain) pid=9 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=257 compat=0 ip=0x1 code=0x7ffc0000`,
		`type=SECCOMP msg=audit(1765051200.300:3): auid=0 uid=0 gid=0 ses=1 subj=web (complain) pid=9 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=0 compat=0 ip=0x1 code=0x7ffc0000`,
	}, "\n")+"\n"), 0o644))
	count := func(opt ReadOptions) (avc, sec int) {
		opt.From = []string{log}
		_, err := Read(context.Background(), opt, func(e *Event) error {
			if e.Type == TypeSeccomp {
				sec++
			} else {
				avc++
			}
			return nil
		})
		require.NoError(t, err)
		return
	}
	avc, sec := count(ReadOptions{})
	assert.Equal(t, [2]int{1, 0}, [2]int{avc, sec})
	avc, sec = count(ReadOptions{Seccomp: true, Profile: "other"})
	assert.Equal(t, [2]int{0, 2}, [2]int{avc, sec})
}
