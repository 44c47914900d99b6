package seccomp

import (
	"fmt"
	"time"
)

// The action part of a SECCOMP record's code= (SECCOMP_RET_ACTION_FULL of
// include/uapi/linux/seccomp.h).
const (
	RetKillProcess uint32 = 0x80000000
	RetKillThread  uint32 = 0x00000000
	RetTrap        uint32 = 0x00030000
	RetErrno       uint32 = 0x00050000
	RetLog         uint32 = 0x7ffc0000
	retActionMask  uint32 = 0xffff0000
)

// Record is one kernel SECCOMP record (audit type 1326), as the audit
// readers hand it over: only records from a source that proves they are
// the kernel's reach here.
type Record struct {
	Time    time.Time
	Arch    uint32 // arch=, an AUDIT_ARCH_* value
	Syscall int64  // syscall=
	Code    uint32 // code=, the filter's return value
	Subj    string // subj=, the task's LSM label (the AppArmor profile, with its mode)
	Comm    string
	Exe     string
	PID     int64
	Source  string
	Line    int
}

// Action is the filter action the record reports.
func (r Record) Action() uint32 { return r.Code & retActionMask }

// Logged reports whether the filter let the call through and logged it
// (SCMP_ACT_LOG): the records a learning profile produces.
func (r Record) Logged() bool { return r.Action() == RetLog }

// Name maps the record's syscall to its name for its architecture.
func (r Record) Name() (string, error) {
	t, ok := TableFor(r.Arch)
	if !ok {
		return "", fmt.Errorf("%w: arch %08x (syscall %d)", ErrUnknownArch, r.Arch, r.Syscall)
	}
	n, ok := t.Name(r.Syscall)
	if !ok {
		return "", fmt.Errorf("%w: syscall %d on %s", ErrUnknownSyscall, r.Syscall, t.Arch)
	}
	return n, nil
}

// Where names the record's place in its source, for messages.
func (r Record) Where() string {
	if r.Line > 0 {
		return fmt.Sprintf("%s:%d", r.Source, r.Line)
	}
	return r.Source
}
