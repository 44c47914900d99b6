// Command ud2 dies on an invalid opcode (ud2) with SIGILL's default action,
// so the kernel prints its "traps: COMM[PID] trap invalid opcode ... in
// FILE[...]" line to the kernel log. Run under a file name that spells an
// audit record, it is what an unprivileged user can do to put a forged
// AppArmor record into kmsg, journald's kernel transport and kern.log: the
// e2e scenario forged-records checks that aa-flow does not learn from it.
package main

import (
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// ud2 executes the invalid opcode (trap_amd64.s).
func ud2()

// sigaction is the kernel's struct sigaction on amd64.
type sigaction struct {
	handler  uintptr
	flags    uint64
	restorer uintptr
	mask     uint64
}

func main() {
	// Go's runtime handles SIGILL itself (a panic, no kernel message): give
	// it back its default action, which the kernel reports.
	var sa sigaction // handler 0: SIG_DFL
	if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(syscall.SIGILL),
		uintptr(unsafe.Pointer(&sa)), 0, 8, 0, 0); e != 0 {
		fmt.Fprintln(os.Stderr, "ud2: rt_sigaction:", e)
		os.Exit(1)
	}
	ud2()
	fmt.Fprintln(os.Stderr, "ud2: ud2 returned")
	os.Exit(1)
}
