// Package loggen writes realistic AppArmor logs for tests and benchmarks: a
// service's mix of file, exec, network, capability, signal and ptrace
// records, first in complain mode (ALLOWED) then in enforce mode (DENIED),
// about half of them followed by their SYSCALL and PROCTITLE companions,
// with unrelated audit and syslog lines in between. It writes auditd's
// audit.log, syslog (kern.log), /dev/kmsg, journalctl's JSON and journal
// export format; the output is the same for the same seed.
package loggen

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"
)

// Format is a log's form.
type Format string

// The forms Write produces.
const (
	AuditLog    Format = "audit"   // /var/log/audit/audit.log (auditd, raw format)
	Syslog      Format = "syslog"  // /var/log/kern.log via rsyslog
	Kmsg        Format = "kmsg"    // /dev/kmsg records
	JournalJSON Format = "journal" // journalctl -o json, kernel and audit transports
	Export      Format = "export"  // journal export format (systemd-journal-remote's input)
)

// Options describe the log to write.
type Options struct {
	Records int    // AppArmor records to write
	Seed    uint64 // same seed, same log
	Format  Format
	// Start is the time of the first record (default 2026-11-22 10:00:00 UTC).
	Start time.Time
	// Profile is the service's profile (default /usr/sbin/exampled).
	Profile string
	// Companions is the fraction of records with SYSCALL/PROCTITLE records
	// (default 0.5; negative for none).
	Companions float64
	// Noise is the number of unrelated lines per record (default 0.05).
	Noise float64
	// Class adds the class= key newer kernels log (6.1, Debian 12's, does
	// not; AppArmor 3.0's libapparmor rejects records that carry it).
	Class bool
	// EnforceAt is the fraction of records in complain mode before the
	// switch to enforce (default 0.7; 1 or more for complain mode only).
	EnforceAt float64
	// Workload is what the service does (default Fixed). Volatile and
	// Distinct default Profile to /usr/sbin/myappd.
	Workload Workload
	// Day is the run of a Volatile service, from 1: each day starts 24
	// hours after the one before, with new pids and new random names.
	Day int
}

// Stats says what Write wrote.
type Stats struct {
	Records    int            // AppArmor records
	Companions int            // SYSCALL + PROCTITLE records
	Noise      int            // unrelated lines
	Lines      int            // all lines (entries for the journal forms)
	ByMode     map[string]int // records by apparmor= mode
}

type gen struct {
	opt  Options
	rng  *rand.Rand
	w    *bufio.Writer
	b    []byte
	t    time.Time
	ser  uint64
	seq  uint64
	st   Stats
	boot time.Time
	vol  *volatileState // the Volatile and Distinct workloads' state
}

// Write writes the log to w.
func Write(w io.Writer, opt Options) (Stats, error) {
	if opt.Start.IsZero() {
		opt.Start = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	}
	switch opt.Workload {
	case Fixed, Volatile, Distinct:
	default:
		return Stats{}, fmt.Errorf("loggen: unknown workload %q", opt.Workload)
	}
	if opt.Profile == "" {
		opt.Profile = "/usr/sbin/exampled"
		if opt.Workload != Fixed {
			opt.Profile = svcExe
		}
	}
	if opt.Day > 1 {
		opt.Start = opt.Start.Add(time.Duration(opt.Day-1) * 24 * time.Hour)
		opt.Seed ^= uint64(opt.Day) * 0x2545f4914f6cdd1d
	}
	if opt.Companions == 0 {
		opt.Companions = 0.5
	}
	if opt.Noise == 0 {
		opt.Noise = 0.05
	}
	if opt.EnforceAt == 0 {
		opt.EnforceAt = 0.7
	}
	switch opt.Format {
	case AuditLog, Syslog, Kmsg, JournalJSON, Export:
	default:
		return Stats{}, fmt.Errorf("loggen: unknown format %q", opt.Format)
	}
	g := &gen{
		opt:  opt,
		rng:  rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x9e3779b97f4a7c15)),
		w:    bufio.NewWriterSize(w, 256<<10),
		t:    opt.Start,
		ser:  1000 + opt.Seed%1000,
		boot: opt.Start.Add(-3 * time.Hour),
		st:   Stats{ByMode: map[string]int{}},
	}
	if opt.Workload != Fixed {
		g.initVolatile()
	}
	for i := 0; i < opt.Records; i++ {
		g.t = g.t.Add(time.Duration(1+g.rng.IntN(40)) * time.Millisecond)
		g.ser++
		if g.rng.Float64() < opt.Noise {
			g.noise()
		}
		mode := "ALLOWED"
		if float64(i) >= opt.EnforceAt*float64(opt.Records) {
			mode = "DENIED"
		}
		g.record(mode)
		if g.err() != nil {
			return g.st, g.err()
		}
	}
	if err := g.w.Flush(); err != nil {
		return g.st, fmt.Errorf("loggen: %w", err)
	}
	return g.st, nil
}

func (g *gen) err() error {
	_, err := g.w.Write(nil)
	return err
}

// A workload: what the service does, with weights.
var (
	readPaths = []string{
		"/etc/exampled/exampled.conf", "/etc/ssl/openssl.cnf", "/etc/ld.so.cache",
		"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libc.so.6",
		"/proc/sys/kernel/random/boot_id", "/etc/nsswitch.conf", "/etc/passwd",
		"/usr/share/zoneinfo/UTC", "/var/lib/exampled/state.db",
	}
	writePaths = []string{
		"/var/log/exampled/access.log", "/var/log/exampled/error.log",
		"/run/exampled.pid", "/var/lib/exampled/state.db-journal", "/tmp/exampled.sock",
	}
	execs = []string{"/usr/bin/logger", "/usr/bin/gzip", "/bin/dash"}
	caps  = []struct {
		n    int
		name string
	}{{1, "dac_override"}, {6, "setgid"}, {7, "setuid"}, {10, "net_bind_service"}, {12, "net_admin"}, {21, "sys_admin"}}
	signals  = []string{"term", "hup", "usr1", "kill"}
	comms    = []string{"exampled", "exampled-work", "exampled-log"}
	syscalls = map[string]int{"open": 257, "exec": 59, "create": 41, "capable": 54, "signal": 62, "ptrace": 101, "connect": 42, "mkdir": 83}
)

func (g *gen) pick(s []string) string { return s[g.rng.IntN(len(s))] }

// record writes one AppArmor record and maybe its companions.
func (g *gen) record(mode string) {
	g.st.Records++
	g.st.ByMode[mode]++
	pid := 1200 + g.rng.IntN(40)
	comm := g.pick(comms)
	b := g.b[:0]
	b = append(b, "apparmor=\""...)
	b = append(b, mode...)
	b = append(b, '"')
	op := "open"
	prof := g.opt.Profile
	if g.vol != nil {
		b, op, pid, comm = g.volatileRecord(b)
		g.b = b
		g.emit(1400, "AVC", b)
		if g.opt.Companions > 0 && g.rng.Float64() < g.opt.Companions {
			g.companions(op, pid, comm)
		}
		return
	}
	switch k := g.rng.IntN(100); {
	case k < 45: // file read
		op = "open"
		b = g.common(b, op, "file", prof)
		b = g.name(b, g.pick(readPaths))
		b = g.proc(b, pid, comm)
		b = append(b, ` requested_mask="r" denied_mask="r" fsuid=0 ouid=0`...)
	case k < 65: // file write
		op = "open"
		b = g.common(b, op, "file", prof)
		b = g.name(b, g.pick(writePaths))
		b = g.proc(b, pid, comm)
		b = append(b, ` requested_mask="wc" denied_mask="wc" fsuid=0 ouid=0`...)
	case k < 72: // exec into a null child, which then reads
		op = "exec"
		x := g.pick(execs)
		b = g.common(b, op, "file", prof)
		b = g.name(b, x)
		b = g.proc(b, pid, comm)
		b = append(b, ` requested_mask="x" denied_mask="x" fsuid=0 ouid=0 target="`...)
		b = append(b, prof...)
		b = append(b, "//null-"...)
		b = append(b, x...)
		b = append(b, '"')
	case k < 80: // a child profile's access
		op = "open"
		b = g.common(b, op, "file", prof+"//null-"+g.pick(execs))
		b = g.name(b, g.pick(readPaths))
		b = g.proc(b, pid+100, "logger")
		b = append(b, ` requested_mask="r" denied_mask="r" fsuid=0 ouid=0`...)
	case k < 88: // network
		op = "create"
		if g.rng.IntN(2) == 0 {
			op = "connect"
		}
		b = g.common(b, op, "net", prof)
		b = g.proc(b, pid, comm)
		if g.rng.IntN(3) == 0 {
			b = append(b, ` family="inet6" sock_type="dgram" protocol=17 requested_mask="`...)
		} else {
			b = append(b, ` family="inet" sock_type="stream" protocol=6 requested_mask="`...)
		}
		b = append(b, op...)
		b = append(b, `" denied_mask="`...)
		b = append(b, op...)
		b = append(b, '"')
	case k < 94: // capability
		op = "capable"
		c := caps[g.rng.IntN(len(caps))]
		b = g.common(b, op, "cap", prof)
		b = g.proc(b, pid, comm)
		b = append(b, " capability="...)
		b = strconv.AppendInt(b, int64(c.n), 10)
		b = append(b, ` capname="`...)
		b = append(b, c.name...)
		b = append(b, '"')
	case k < 98: // signal
		op = "signal"
		b = g.common(b, op, "signal", prof)
		b = g.proc(b, pid, comm)
		b = append(b, ` requested_mask="send" denied_mask="send" signal=`...)
		b = append(b, g.pick(signals)...)
		b = append(b, ` peer="unconfined"`...)
	default: // ptrace
		op = "ptrace"
		b = g.common(b, op, "ptrace", prof)
		b = g.proc(b, pid, comm)
		b = append(b, ` requested_mask="read" denied_mask="read" peer="unconfined"`...)
	}
	g.b = b
	g.emit(1400, "AVC", b)
	if g.opt.Companions > 0 && g.rng.Float64() < g.opt.Companions {
		g.companions(op, pid, comm)
	}
}

func (g *gen) common(b []byte, op, class, prof string) []byte {
	b = append(b, ` operation="`...)
	b = append(b, op...)
	if g.opt.Class {
		b = append(b, `" class="`...)
		b = append(b, class...)
	}
	b = append(b, `" profile="`...)
	b = append(b, prof...)
	return append(b, '"')
}

// name writes name=, hex-encoded now and then (a path with a space), as
// the kernel does.
func (g *gen) name(b []byte, p string) []byte {
	if g.rng.IntN(50) == 0 {
		p += " (deleted)"
		b = append(b, " name="...)
		return hex.AppendEncode(b, []byte(p))
	}
	b = append(b, ` name="`...)
	b = append(b, p...)
	return append(b, '"')
}

func (g *gen) proc(b []byte, pid int, comm string) []byte {
	b = append(b, " pid="...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, ` comm="`...)
	b = append(b, comm...)
	return append(b, '"')
}

func (g *gen) companions(op string, pid int, comm string) {
	g.st.Companions += 2
	b := g.b[:0]
	b = append(b, "arch=c000003e syscall="...)
	b = strconv.AppendInt(b, int64(syscalls[op]), 10)
	b = append(b, " success=yes exit=3 a0=ffffff9c a1=7ffd"...)
	b = strconv.AppendUint(b, uint64(g.rng.Uint32()), 16)
	b = append(b, " a2=80000 a3=0 items=1 ppid=1 pid="...)
	b = strconv.AppendInt(b, int64(pid), 10)
	b = append(b, ` auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="`...)
	b = append(b, comm...)
	b = append(b, `" exe="/usr/sbin/exampled" subj=`...)
	b = append(b, g.opt.Profile...)
	b = append(b, " key=(null)"...)
	g.b = b
	g.emit(1300, "SYSCALL", b)
	b = g.b[:0]
	b = append(b, "proctitle="...)
	b = hex.AppendEncode(b, []byte("/usr/sbin/exampled\x00-f"))
	g.b = b
	g.emit(1327, "PROCTITLE", b)
}

var (
	noiseAudit = []string{
		`type=USER_ACCT msg=audit(%s): pid=2210 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:accounting grantors=pam_permit acct="root" exe="/usr/sbin/cron" hostname=? addr=? terminal=cron res=success'`,
		`type=CRED_ACQ msg=audit(%s): pid=2210 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:setcred grantors=pam_permit acct="root" exe="/usr/sbin/cron" hostname=? addr=? terminal=cron res=success'`,
		`type=SERVICE_START msg=audit(%s): pid=1 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='unit=logrotate comm="systemd" exe="/usr/lib/systemd/systemd" hostname=? addr=? terminal=? res=success'`,
	}
	noiseSyslog = []string{
		"systemd[1]: Starting logrotate.service - Rotate log files...",
		"CRON[2210]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)",
		"kernel: [%s] e1000e: eno1 NIC Link is Up 1000 Mbps Full Duplex, Flow Control: None",
	}
)

// noise writes an unrelated line.
func (g *gen) noise() {
	g.st.Noise++
	switch g.opt.Format {
	case AuditLog:
		g.line(fmt.Sprintf(noiseAudit[g.rng.IntN(len(noiseAudit))], g.stamp()))
		g.ser++ // userspace audit records take serials too
	case Syslog:
		s := noiseSyslog[g.rng.IntN(len(noiseSyslog))]
		if len(s) > 7 && s[:7] == "kernel:" {
			s = fmt.Sprintf(s, g.uptime())
		}
		g.line(g.t.Format(time.Stamp) + " host " + s)
	case Kmsg:
		g.seq++
		g.line(fmt.Sprintf("6,%d,%d,-;e1000e: eno1 NIC Link is Up 1000 Mbps Full Duplex", g.seq, g.t.Sub(g.boot).Microseconds()))
		g.line(" SUBSYSTEM=net")
	case JournalJSON:
		g.journalEntry("syslog", 0, "", "Started logrotate.service - Rotate log files.")
	case Export:
		g.exportEntry("syslog", 0, "", []byte("Started logrotate.service - Rotate log files."))
	}
}

func (g *gen) stamp() string {
	ms := g.t.Nanosecond() / int(time.Millisecond)
	return fmt.Sprintf("%d.%03d:%d", g.t.Unix(), ms, g.ser)
}

func (g *gen) uptime() string {
	d := g.t.Sub(g.boot)
	return fmt.Sprintf("%5d.%06d", int64(d/time.Second), int64(d%time.Second/time.Microsecond))
}

func (g *gen) line(s string) {
	g.st.Lines++
	_, _ = g.w.WriteString(s)
	_ = g.w.WriteByte('\n')
}

// emit writes one audit record of type typ with body in the log's form.
func (g *gen) emit(typ int, name string, body []byte) {
	w := g.w
	switch g.opt.Format {
	case AuditLog:
		g.st.Lines++
		_, _ = w.WriteString("type=")
		_, _ = w.WriteString(name)
		_, _ = w.WriteString(" msg=audit(")
		_, _ = w.WriteString(g.stamp())
		_, _ = w.WriteString("): ")
		_, _ = w.Write(body)
		_ = w.WriteByte('\n')
	case Syslog:
		g.st.Lines++
		_, _ = w.WriteString(g.t.Format(time.Stamp))
		_, _ = w.WriteString(" host kernel: [")
		_, _ = w.WriteString(g.uptime())
		_, _ = w.WriteString("] ")
		g.kernelText(typ, body)
		_ = w.WriteByte('\n')
	case Kmsg:
		g.st.Lines++
		g.seq++
		fmt.Fprintf(w, "5,%d,%d,-;", g.seq, g.t.Sub(g.boot).Microseconds())
		g.kernelText(typ, body)
		_ = w.WriteByte('\n')
		_, _ = w.WriteString(" SUBSYSTEM=audit\n")
	case JournalJSON:
		// Every record through the audit transport; AVCs also through the
		// kernel log, as when auditd is not running: the same record twice.
		g.journalEntry("audit", typ, name, string(body))
		if typ == 1400 {
			g.journalEntry("kernel", typ, "", string(g.kernelBytes(typ, body)))
		}
	case Export:
		g.exportEntry("audit", typ, name, body)
		if typ == 1400 {
			g.exportEntry("kernel", typ, "", g.kernelBytes(typ, body))
		}
	}
}

func (g *gen) kernelText(typ int, body []byte) {
	_, _ = g.w.Write(g.kernelBytes(typ, body))
}

func (g *gen) kernelBytes(typ int, body []byte) []byte {
	b := make([]byte, 0, len(body)+64)
	b = append(b, "audit: type="...)
	b = strconv.AppendInt(b, int64(typ), 10)
	b = append(b, " audit("...)
	b = append(b, g.stamp()...)
	b = append(b, "): "...)
	return append(b, body...)
}

// journalEntry writes one line of journalctl -o json.
func (g *gen) journalEntry(transport string, typ int, typeName, msg string) {
	g.st.Lines++
	g.seq++
	us := g.t.UnixMicro()
	w := g.w
	fmt.Fprintf(w, `{"__CURSOR":"s=0123456789abcdef0123456789abcdef;i=%x;b=fedcba9876543210fedcba9876543210;m=%x;t=%x;x=%x",`, g.seq, us-g.boot.UnixMicro(), us, g.seq*7919)
	fmt.Fprintf(w, `"__REALTIME_TIMESTAMP":"%d","__MONOTONIC_TIMESTAMP":"%d","_BOOT_ID":"fedcba9876543210fedcba9876543210","_TRANSPORT":"%s",`, us, us-g.boot.UnixMicro(), transport)
	if transport == "audit" {
		fmt.Fprintf(w, `"_AUDIT_TYPE":"%d","_AUDIT_TYPE_NAME":"%s","_AUDIT_ID":"%d","_SOURCE_REALTIME_TIMESTAMP":"%d","SYSLOG_FACILITY":"4",`, typ, typeName, g.ser, us)
		msg = typeName + " " + msg
	}
	if transport == "kernel" {
		_, _ = w.WriteString(`"SYSLOG_IDENTIFIER":"kernel","PRIORITY":"5",`)
	}
	_, _ = w.WriteString(`"MESSAGE":`)
	_, _ = w.Write(strconv.AppendQuote(nil, msg))
	_, _ = w.WriteString("}\n")
}

// exportEntry writes one entry of the journal export format; MESSAGE is
// written as a binary field when it holds a byte that is not printable.
func (g *gen) exportEntry(transport string, typ int, typeName string, msg []byte) {
	g.st.Lines++
	g.seq++
	us := g.t.UnixMicro()
	w := g.w
	fmt.Fprintf(w, "__REALTIME_TIMESTAMP=%d\n__MONOTONIC_TIMESTAMP=%d\n_BOOT_ID=fedcba9876543210fedcba9876543210\n_TRANSPORT=%s\n", us, us-g.boot.UnixMicro(), transport)
	if transport == "audit" {
		fmt.Fprintf(w, "_AUDIT_TYPE=%d\n_AUDIT_TYPE_NAME=%s\n_AUDIT_ID=%d\n_SOURCE_REALTIME_TIMESTAMP=%d\n", typ, typeName, g.ser, us)
		msg = append([]byte(typeName+" "), msg...)
	}
	WriteExportField(w, "MESSAGE", msg)
	_ = w.WriteByte('\n')
}

// WriteExportField writes one field in journal export format: NAME=value,
// or for a value with a newline or a byte that is not printable ASCII the
// binary form NAME, newline, little-endian 64-bit length, value.
func WriteExportField(w *bufio.Writer, name string, v []byte) {
	bin := false
	for _, c := range v {
		if c == '\n' || c < 0x20 || c >= 0x7f {
			bin = true
			break
		}
	}
	_, _ = w.WriteString(name)
	if !bin {
		_ = w.WriteByte('=')
		_, _ = w.Write(v)
		_ = w.WriteByte('\n')
		return
	}
	_ = w.WriteByte('\n')
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(v)))
	_, _ = w.Write(n[:])
	_, _ = w.Write(v)
	_ = w.WriteByte('\n')
}
