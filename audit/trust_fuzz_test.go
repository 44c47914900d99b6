package audit

import (
	"regexp"
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/audit/source"
)

// The forms a record the kernel wrote takes, written out independently of
// frame.go: a kernel message, auditd's line, a dmesg line and a syslog line
// tagged by the kernel.
var (
	kernelForm = `((audit: )?type=\d+ audit\(\d+\.\d+:\d+\): |audit\(\d+\.\d+:\d+\): +type=\d+ )`
	reKernel   = regexp.MustCompile(`^` + kernelForm)
	reText     = regexp.MustCompile(`^(` + kernelForm +
		`|(node=\S+ )?type=\S+ msg=audit\(\d+\.\d+:\d+\): ` +
		`|\[ *\d+\.\d+\] ` + kernelForm +
		`|([A-Z][a-z][a-z] [ \d]\d \d\d:\d\d:\d\d\S*|\d{4}-\d\d-\d\d[T ]\S+) (\S+ kernel|kern\.\S+): (\[ *\d+\.\d+\] )?` + kernelForm + `)`)
	// journald's audit MESSAGE starts with the type's name, or AUDIT and
	// its number for a type journald has no name for ("AUDIT%04i").
	reAuditMsg = regexp.MustCompile(`^(type=\S+ msg=audit\(\d+\.\d+:\d+\):|[A-Z_]+(\[\d+\])? |AUDIT\d{4,} )`)
	// An AVC's first field is apparmor=.
	reAVCBody = regexp.MustCompile(`audit\(\d+\.\d+:\d+\): *apparmor="|^AVC +apparmor="`)
)

// wrappers put a fuzzed line where a forger would: in another kernel
// message (the trap trick), under another program's syslog tag, under the
// kernel's, after a dmesg time, or nowhere.
var wrappers = []string{
	"",
	"traps: t[31337] trap invalid opcode ip:401000 sp:7ffd0c1f6ad0 error:0 in ",
	"Dec  6 10:00:00 web1 cron[812]: ",
	"Dec  6 10:00:00 web1 kernel: ",
	"Dec  6 10:00:00 web1 kernel: [ 12.5] traps: t[1] trap invalid opcode in ",
	"2026-12-06T10:00:00.123+00:00 web1 kernel: ",
	"[ 2010.738449] ",
	"t[1]: segfault at 0 ip 0 sp 0 error 4 in ",
	"audit: type=1400 audit(1795341600.031:1006): x=",
}

// FuzzReadTrust feeds lines, embedded in other kernel messages and under
// syslog tags, to the log readers' decoder from every origin: an event
// comes only from a line that starts with the kernel's audit prefix in the
// form of its origin, and an AVC only when apparmor= is its first field.
func FuzzReadTrust(f *testing.F) {
	for _, s := range []string{
		`audit: type=1400 audit(1795341600.031:1006): apparmor="ALLOWED" operation="capable" class="cap" profile="svc" pid=1 comm="t" capability=21 capname="sys_admin"`,
		`type=AVC msg=audit(1795341600.031:1006): apparmor="DENIED" operation="open" class="file" profile="svc" name="/etc/shadow" pid=1 comm="t" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`,
		`apparmor="ALLOWED" operation="open" profile="svc" name="/etc/shadow" requested_mask="r"`,
		`audit(1795341600.031:1006): type=1503 operation="capable" name="sys_admin" pid=1 profile="svc"`,
		`type=USER_AVC msg=audit(1.000:2): pid=1 uid=0 auid=0 ses=1 msg='apparmor="DENIED" operation="dbus_method_call" bus="system" mask="send" label="svc"'`,
		`type=USER_AVC msg=audit(1.000:2): pid=1 uid=0 auid=0 ses=1 subj=unconfined msg='apparmor="ALLOWED" operation="open" class="file" profile="svc" name="/etc/shadow" requested_mask="r"'`,
		`type=APPARMOR msg=audit(1.000:2): REJECTING r access to /etc/shadow (t(1) profile svc active svc)`,
		`AVC apparmor="ALLOWED" operation="open" profile="svc" name="/etc/shadow"`,
	} {
		for w := range wrappers {
			f.Add([]byte(s), uint8(w))
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, w uint8) {
		line := append([]byte(wrappers[int(w)%len(wrappers)]), in...)
		for _, o := range []source.Origin{source.Kernel, source.Text, source.Audit, source.Other} {
			d := NewDecoder()
			var evs []*Event
			if o == source.Audit {
				evs = d.FeedMessage(line, MessageDefaults{Serial: 7}, "fuzz", 1)
			} else {
				evs = d.FeedOrigin(line, o, "fuzz", 1)
			}
			evs = append(evs, d.Flush()...)
			if len(evs) == 0 {
				continue
			}
			var re *regexp.Regexp
			switch o {
			case source.Kernel:
				re = reKernel
			case source.Text:
				re = reText
			case source.Audit:
				re = reAuditMsg
			default:
				t.Fatalf("an event from a line of origin %v: %q", o, line)
			}
			if !re.Match(line) {
				t.Fatalf("origin %v: an event from a line without the kernel's prefix: %q", o, line)
			}
			for _, e := range evs {
				if e.Type == TypeAVC && !reAVCBody.Match(line) {
					t.Fatalf("origin %v: an AVC whose first field is not apparmor=: %q", o, line)
				}
				if e.Type == TypeUserAVC && !strings.HasPrefix(e.Operation, "dbus_") {
					t.Fatalf("origin %v: a USER_AVC taken for something other than D-Bus: %q", o, line)
				}
			}
		}
	})
}
