// Command ptraceme asks for ptrace(PTRACE_TRACEME), the call the hardening
// lesson shows a seccomp allow-list refusing. It prints the kernel's answer
// and exits 0 when the call succeeded, 1 when it was refused with EPERM, 2
// on any other error.
package main

import (
	"fmt"
	"os"
	"syscall"
)

func main() {
	_, _, errno := syscall.RawSyscall(syscall.SYS_PTRACE, syscall.PTRACE_TRACEME, 0, 0)
	switch errno {
	case 0:
		fmt.Println("ptrace(PTRACE_TRACEME): ok")
	case syscall.EPERM:
		fmt.Println("ptrace(PTRACE_TRACEME): Operation not permitted")
		os.Exit(1)
	default:
		fmt.Printf("ptrace(PTRACE_TRACEME): %v\n", errno)
		os.Exit(2)
	}
}
