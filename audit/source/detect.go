package source

import (
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Detected is the host's log source, as Detect chose it.
type Detected struct {
	Kind string // "auditd", "journald", "syslog", "kmsg"
	Name string // the file read, or "journald"
	Why  string // why this one, for the note on stderr
	path string
}

// Detect chooses the host's AppArmor log: auditd's log when auditd runs,
// else journald, else the first of kern.log, syslog and messages that
// exists, else /dev/kmsg.
func Detect(opt Options) (Detected, error) {
	auditLog := or(opt.AuditLog, "/var/log/audit/audit.log")
	if pid, ok := auditdRunning(opt.AuditdPid); ok {
		if _, err := os.Stat(auditLog); err == nil {
			return Detected{Kind: "auditd", Name: auditLog, Why: "auditd runs as pid " + strconv.Itoa(pid), path: auditLog}, nil
		}
	}
	if opt.JournalFile != "" {
		return Detected{Kind: "journald", Name: "journald", Why: "journal file " + opt.JournalFile}, nil
	}
	jdir := or(opt.JournalDir, "/run/systemd/journal")
	if _, err := os.Stat(jdir); err == nil {
		if p, err := exec.LookPath(or(opt.Journalctl, "journalctl")); err == nil {
			return Detected{Kind: "journald", Name: "journald", Why: "journald runs (" + jdir + "); read with " + p}, nil
		}
	}
	syslogs := opt.SyslogFiles
	if syslogs == nil {
		syslogs = []string{"/var/log/kern.log", "/var/log/syslog", "/var/log/messages"}
	}
	for _, f := range syslogs {
		if _, err := os.Stat(f); err == nil {
			return Detected{Kind: "syslog", Name: f, Why: "no auditd or journald; the kernel log via syslog", path: f}, nil
		}
	}
	kmsg := or(opt.Kmsg, "/dev/kmsg")
	if _, err := os.Stat(kmsg); err == nil {
		return Detected{Kind: "kmsg", Name: kmsg, Why: "no auditd, journald or syslog file; the kernel ring buffer", path: kmsg}, nil
	}
	return Detected{}, errors.New("no AppArmor log found: no running auditd, journald, syslog file or /dev/kmsg; name one with --from")
}

// Open returns the source that reads what Detect found.
func (d Detected) Open(opt Options) Source {
	switch d.Kind {
	case "journald":
		return Journal(opt)
	case "kmsg":
		return Kmsg(d.path, opt)
	default:
		return File(d.path, opt)
	}
}

// auditdRunning reads auditd's pid file and checks that the process lives.
func auditdRunning(pidFiles []string) (int, bool) {
	if pidFiles == nil {
		pidFiles = []string{"/run/auditd.pid", "/var/run/auditd.pid"}
	}
	for _, f := range pidFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			return pid, true
		}
	}
	return 0, false
}
