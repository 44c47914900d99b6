package audit_test

import (
	"bytes"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/audit/source"
)

// The records a test forges or takes as genuine.
const (
	// body is what the kernel writes after the stamp.
	body = `apparmor="ALLOWED" operation="capable" class="cap" profile="svc" pid=31337 comm="t" capability=21 capname="sys_admin"`
	// genuine is the record as the kernel prints it to its log.
	genuine = `audit: type=1400 audit(1795341600.031:1006): ` + body
	// trap is the trap trick: a program whose file name spells a record
	// (hex name= to avoid "/") dies on an invalid opcode, and the kernel
	// prints its name.
	trap = `traps: t[31337] trap invalid opcode ip:401000 sp:7ffd0c1f6ad0 error:0 in ` + body + ` name=2F6574632F736861646F77[400000+1000]`
	// auditd is the record as auditd writes it.
	auditd = `type=AVC msg=audit(1795341600.031:1006): ` + body
)

// TestTrustOnlyTheKernelsRecords: a record counts only when the message
// starts with the kernel's audit prefix in the form of where it was read;
// anything else that reads like a record is refused, with the reason, and
// never returned (issue 13, items 1 and 2).
func TestTrustOnlyTheKernelsRecords(t *testing.T) {
	for _, tc := range []struct {
		name   string
		origin source.Origin
		line   string
		want   bool         // an event is returned
		reason audit.Reason // else: refused for this reason ("" skipped)
	}{
		{"kmsg: the kernel's record", source.Kernel, genuine, true, ""},
		{"kmsg: an older kernel's, without audit:", source.Kernel, `type=1400 audit(1795341600.031:1006): ` + body, true, ""},
		{"kmsg: the trap trick", source.Kernel, trap, false, audit.ReasonPrefix},
		{"kmsg: a record after other text", source.Kernel, `x ` + genuine, false, audit.ReasonPrefix},
		{"kmsg: a comm spelling the prefix", source.Kernel, `audit: type=140[1234]: segfault at 0 ip 0 sp 0 error 4 in ` + body, false, audit.ReasonPrefix},
		{"kmsg: apparmor= not first", source.Kernel, `audit: type=1400 audit(1795341600.031:1006): x=1 ` + body, false, audit.ReasonLayout},
		{"kmsg: user space's /dev/kmsg line", source.Other, genuine, false, audit.ReasonTransport},
		{"journald audit transport", source.Audit, `AVC ` + body, true, ""},
		{"journald audit transport: not a type word", source.Audit, `hello ` + body, false, audit.ReasonPrefix},
		{"journald audit transport: a bare number", source.Audit, `1400 ` + body, false, audit.ReasonPrefix},
		// journald names a type it does not know AUDITnnnn: systemd's
		// audit_type_name_alloca (src/journal/audit-type.h) formats it
		// "AUDIT%04i" when audit_type_to_string has no name, and
		// process_audit_string writes MESSAGE=NAME BODY. The audit
		// transport is journald's own, from the kernel's netlink socket,
		// so that form is the kernel's record too.
		{"journald audit transport: a type journald has no name for", source.Audit, `AUDIT1400 ` + body, true, ""},
		{"journald audit transport: AUDIT and too few digits", source.Audit, `AUDIT140 ` + body, false, audit.ReasonPrefix},
		{"journald audit transport: AUDIT and a zero %04i does not write", source.Audit, `AUDIT01400 ` + body, false, audit.ReasonPrefix},
		{"journald audit transport: AUDIT and no number", source.Audit, `AUDIT ` + body, false, audit.ReasonPrefix},
		// auditd's log writes a type it has no name for UNKNOWN[nnnn]
		// (audit_msg_type_to_name); journald never does, so in a journald
		// message that word is no form of the kernel's record.
		{"journald audit transport: auditd's UNKNOWN[nnnn]", source.Audit, `UNKNOWN[1400] ` + body, false, audit.ReasonPrefix},
		{"journald audit transport: UNKNOWN[] with a name", source.Audit, `UNKNOWN[AVC] ` + body, false, audit.ReasonPrefix},
		{"audit.log: auditd's UNKNOWN[nnnn]", source.Text, `type=UNKNOWN[1400] msg=audit(1795341600.031:1006): ` + body, true, ""},

		{"audit.log", source.Text, auditd, true, ""},
		{"audit.log with node=", source.Text, `node=web1 ` + auditd, true, ""},
		{"audit.log: apparmor= not first", source.Text, `type=AVC msg=audit(1795341600.031:1006): avc: denied ` + body, false, audit.ReasonLayout},
		{"audit.log: a record in another record", source.Text, `type=USER_CMD msg=audit(1795341600.031:1006): pid=1 uid=0 cmd=x ` + body, false, audit.ReasonLayout},
		{"audit.log: D-Bus through the audit socket", source.Text, `type=USER_AVC msg=audit(1795341600.031:1007): pid=363 uid=102 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor="DENIED" operation="dbus_method_call" bus="system" path="/" interface="x" member="y" mask="send" name="z" pid=1 label="svc" peer_pid=2 peer_label="unconfined" exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'`, true, ""},
		{"audit.log: a USER_AVC about a file", source.Text, `type=USER_AVC msg=audit(1795341600.031:1007): pid=4242 uid=0 auid=4294967295 ses=4294967295 subj=docker-default (enforce) msg='apparmor="ALLOWED" operation="open" class="file" profile="svc" name="/etc/shadow" requested_mask="r" denied_mask="r" fsuid=0 ouid=0 exe="/bin/sh"'`, false, audit.ReasonUserMessage},
		{"audit.log: a USER_AVC about a capability", source.Text, `type=USER_AVC msg=audit(1795341600.031:1007): pid=4242 uid=0 auid=4294967295 ses=4294967295 msg='apparmor="ALLOWED" operation="capable" class="cap" profile="svc" capname="sys_admin"'`, false, audit.ReasonUserMessage},
		{"journald audit transport: D-Bus", source.Audit, `USER_AVC pid=363 uid=102 auid=4294967295 ses=4294967295 subj=unconfined msg='apparmor="DENIED" operation="dbus_bind" bus="system" name="z" mask="bind" pid=1 label="svc" exe="/usr/bin/dbus-daemon" sauid=102 hostname=? addr=? terminal=?'`, true, ""},
		{"journald audit transport: a USER_AVC about a file", source.Audit, `USER_AVC pid=4242 uid=0 auid=4294967295 ses=4294967295 msg='apparmor="ALLOWED" operation="open" class="file" profile="svc" name="/etc/shadow" requested_mask="r"'`, false, audit.ReasonUserMessage},
		{"kmsg: D-Bus relayed by the kernel", source.Kernel, `audit: type=1107 audit(1795341600.031:1007): pid=640 uid=103 auid=4294967295 ses=4294967295 msg='apparmor="ALLOWED" operation="dbus_method_call" bus="system" path="/" interface="x" member="y" mask="send" name="z" pid=1 label="svc" peer_pid=2 peer_label="unconfined" exe="/usr/bin/dbus-daemon" sauid=103 hostname=? addr=? terminal=?'`, true, ""},
		{"kmsg: a USER_AVC about a file", source.Kernel, `audit: type=1107 audit(1795341600.031:1007): pid=4242 uid=0 auid=4294967295 ses=4294967295 msg='apparmor="ALLOWED" operation="open" class="file" profile="svc" name="/etc/shadow" requested_mask="r"'`, false, audit.ReasonUserMessage},
		{"audit.log: a seccomp record", source.Text, `type=SECCOMP msg=audit(1740535410.396:1727850): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=web (complain) pid=3315793 comm="chmod" exe="/bin/chmod" sig=0 arch=c000003e syscall=268 compat=0 ip=0x7f code=0x7ffc0000`, true, ""},
		{"kmsg: a seccomp record after other text", source.Kernel, `x audit: type=1326 audit(1625740283.502:574): auid=4294967295 uid=0 gid=0 ses=4294967295 pid=4709 comm="sh" exe="/bin/busybox" sig=0 arch=c000003e syscall=268 compat=0 ip=0x7f code=0x7ffc0000`, false, audit.ReasonPrefix},
		{"dmesg", source.Text, `[ 2010.738449] ` + genuine, true, ""},
		{"dmesg: the trap trick", source.Text, `[ 2010.738449] ` + trap, false, audit.ReasonPrefix},
		{"syslog, kernel tag", source.Text, `Dec  6 10:00:00 web1 kernel: [ 12.5] ` + genuine, true, ""},
		{"syslog, kernel tag, RFC 3339", source.Text, `2026-12-06T10:00:00.123456+00:00 web1 kernel: ` + genuine, true, ""},
		{"syslog: another program's tag", source.Text, `Dec  6 10:00:00 web1 cron[812]: ` + genuine, false, audit.ReasonSyslogTag},
		{"syslog: a tag named like the kernel's", source.Text, `Dec  6 10:00:00 web1 kernel[812]: ` + genuine, false, audit.ReasonSyslogTag},
		{"syslog: dbus-daemon's own line", source.Text, `Dec  6 10:00:00 web1 dbus-daemon[3217]: apparmor="DENIED" operation="dbus_bind" bus="session" name="x" mask="bind" pid=1 label="svc"`, false, audit.ReasonSyslogTag},
		{"syslog: the trap trick under the kernel's tag", source.Text, `Dec  6 10:00:00 web1 kernel: [ 12.5] ` + trap, false, audit.ReasonPrefix},
		{"syslog: the record after the message's start", source.Text, `Dec  6 10:00:00 web1 kernel: [ 12.5] x: ` + genuine, false, audit.ReasonPrefix},
		{"text: a grep prefix", source.Text, `audit.log:` + auditd, false, audit.ReasonPrefix},
		{"text: an unrelated line", source.Text, `Dec  6 10:00:00 web1 cron[812]: (root) CMD (true)`, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := audit.NewDecoder()
			var evs []*audit.Event
			if tc.origin == source.Audit {
				evs = d.FeedMessage([]byte(tc.line), audit.MessageDefaults{Serial: 9}, "log", 7)
			} else {
				evs = d.FeedOrigin([]byte(tc.line), tc.origin, "log", 7)
			}
			evs = append(evs, d.Flush()...)
			st := d.Stats()
			if tc.want {
				require.Len(t, evs, 1)
				assert.Zero(t, st.RefusedTotal)
				if strings.HasPrefix(tc.line, "AUDIT1400 ") {
					assert.Equal(t, audit.TypeAVC, evs[0].Type, "the type number journald's word names")
				}
				return
			}
			assert.Empty(t, evs)
			assert.Empty(t, st.Malformed)
			if tc.reason == "" {
				assert.Zero(t, st.RefusedTotal)
				assert.Equal(t, 1, st.Skipped)
				return
			}
			require.Equal(t, 1, st.RefusedTotal)
			assert.Equal(t, []audit.Refused{{Source: "log", Line: 7, Reason: tc.reason}}, st.Refused)
			assert.Equal(t, map[audit.Reason]int{tc.reason: 1}, st.RefusedBy)
		})
	}
}

// TestReadEnrichedAuditLog: Debian's auditd writes its ENRICHED format,
// the names after a 0x1D byte; the record is still the kernel's.
func TestReadEnrichedAuditLog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "audit.log")
	testutil.WriteFile(t, log, []byte(`type=AVC msg=audit(1796589289.364:305): apparmor="ALLOWED" operation="open" class="file" profile="svc" name="/etc/hostname" pid=668 comm="svc" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`+"\x1d"+`FSUID="root" OUID="root"`+"\n"))
	evs, res := collect(t, audit.ReadOptions{From: []string{log}})
	require.Len(t, evs, 1)
	assert.Equal(t, "/etc/hostname", evs[0].Name)
	assert.Equal(t, int64(0), evs[0].OUID)
	assert.Zero(t, res.Stats.RefusedTotal)
}

// TestReadRefusesForgedSyslog: in a syslog file only the kernel's tag
// counts.
func TestReadRefusesForgedSyslog(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "syslog")
	testutil.WriteFile(t, log, []byte(strings.Join([]string{
		`Dec  6 10:00:00 web1 cron[812]: ` + genuine,
		`Dec  6 10:00:01 web1 kernel: [ 12.5] ` + trap,
		`Dec  6 10:00:02 web1 kernel: ` + strings.Replace(genuine, "1006", "1008", 1),
	}, "\n")+"\n"))
	evs, res := collect(t, audit.ReadOptions{From: []string{log}})
	require.Len(t, evs, 1)
	assert.Equal(t, uint64(1008), evs[0].Serial)
	assert.Equal(t, 2, res.Stats.RefusedTotal)
	assert.Equal(t, map[audit.Reason]int{audit.ReasonSyslogTag: 1, audit.ReasonPrefix: 1}, res.Stats.RefusedBy)
}

// TestReadKmsgFallbackRefusesTrapTrick: with no --from, Read falls back to
// /dev/kmsg; the trap trick's line there is refused too.
func TestReadKmsgFallbackRefusesTrapTrick(t *testing.T) {
	dir := t.TempDir()
	kmsg := filepath.Join(dir, "kmsg")
	testutil.WriteFile(t, kmsg, []byte("4,100,1000,-;"+trap+"\n"+
		"5,101,2000,-;"+genuine+"\n"+
		"13,102,3000,-;"+strings.Replace(genuine, "1006", "1009", 1)+"\n")) // facility user: written from user space
	opt := noHost(dir)
	opt.Kmsg = kmsg
	var note bytes.Buffer
	opt.Log = &note
	evs, res := collect(t, opt)
	assert.Contains(t, note.String(), "reading "+kmsg)
	require.Len(t, evs, 1)
	assert.Equal(t, uint64(1006), evs[0].Serial)
	assert.Equal(t, map[audit.Reason]int{audit.ReasonPrefix: 1, audit.ReasonTransport: 1}, res.Stats.RefusedBy)
}

// TestReadJournalRefusesOtherTransports: a journal entry counts only from
// the kernel's transport (the kernel's facility) or the audit transport,
// and the kernel's message must start with the prefix. The journal is a
// real one (systemd-journal-remote), read by whichever journal source the
// build has.
func TestReadJournalRefusesOtherTransports(t *testing.T) {
	dir := t.TempDir()
	n := 0
	entry := func(transport, facility, msg string) string {
		n++
		e := "__REALTIME_TIMESTAMP=17953416000" + strconv.Itoa(10+n) + "000\n" +
			"__MONOTONIC_TIMESTAMP=108000" + strconv.Itoa(10+n) + "000\n" +
			"_BOOT_ID=fedcba9876543210fedcba9876543210\n" +
			"_TRANSPORT=" + transport + "\n"
		if facility != "" {
			e += "SYSLOG_FACILITY=" + facility + "\n"
		}
		return e + "MESSAGE=" + msg + "\n\n"
	}
	export := filepath.Join(dir, "forged.export")
	testutil.WriteFile(t, export, []byte(entry("kernel", "0", trap)+
		entry("syslog", "4", strings.Replace(genuine, "1006", "1010", 1))+
		entry("kernel", "1", strings.Replace(genuine, "1006", "1011", 1))+
		entry("kernel", "0", genuine)))
	jf := filepath.Join(dir, "forged.journal")
	writeJournal(t, jf, export)
	opt := noHost(dir)
	opt.JournalFile = jf
	evs, res := collect(t, opt)
	require.Len(t, evs, 1)
	assert.Equal(t, uint64(1006), evs[0].Serial)
	// The syslog transport's entry is not even read (the query asks for
	// the kernel and audit transports); the user-space kmsg line is
	// refused.
	assert.Equal(t, map[audit.Reason]int{audit.ReasonPrefix: 1, audit.ReasonTransport: 1}, res.Stats.RefusedBy)
}
