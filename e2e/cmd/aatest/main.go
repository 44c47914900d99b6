// Command aatest is the end-to-end tests' "every rule class" workload: one run
// reads, writes, appends, creates a fifo, links, renames, chmods, unlinks,
// makes a directory and a symlink, chowns (CAP_CHOWN), binds a privileged
// port (CAP_NET_BIND_SERVICE), connects and accepts over TCP, opens UDP, unix
// and raw (CAP_NET_RAW) sockets, runs a helper (an exec transition: a
// //null- child in complain mode), ptraces and signals that child, probes
// pid 1, and finally drops root with setuid (CAP_SETUID). It prints one line
// per operation and exits 1 if any failed.
//
//	aatest            the workload
//	aatest all        the workload and what only AppArmor 4.x mediates (under
//	                  abi <abi/4.0>): a user namespace, a POSIX message
//	                  queue, an io_uring with a polling thread, unix sockets
//	                  by path, abstract name and pair, a tmpfs mount; these
//	                  may fail (the kernel's answer is what is recorded)
//	aatest forbidden  read /etc/shadow (what the learned profile must deny)
package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
)

const dir = "/tmp/aatest"

func main() {
	// Never hang the guest: whatever happens, stop after a minute.
	time.AfterFunc(time.Minute, func() {
		fmt.Println("aatest: timed out")
		os.Exit(2)
	})
	if len(os.Args) > 1 && os.Args[1] == "forbidden" {
		_, err := os.ReadFile("/etc/shadow")
		report("read /etc/shadow", err)
		if err != nil {
			os.Exit(1)
		}
		return
	}
	list := ops()
	last := list[len(list)-1] // setuid: drops the capabilities the others need
	failed := 0
	for _, op := range list[:len(list)-1] {
		if err := op.fn(); err != nil {
			failed++
			report(op.name, err)
		} else {
			report(op.name, nil)
		}
	}
	if len(os.Args) > 1 && os.Args[1] == "all" {
		// These may fail (a kernel or ABI without the class, a missing
		// privilege): what the kernel records is what matters.
		for _, op := range newerOps() {
			report(op.name, op.fn())
		}
	}
	if err := last.fn(); err != nil {
		failed++
		report(last.name, err)
	} else {
		report(last.name, nil)
	}
	if failed > 0 {
		fmt.Printf("aatest: %d operations failed\n", failed)
		os.Exit(1)
	}
}

func report(what string, err error) {
	res := "ok"
	if err != nil {
		res = err.Error()
	}
	fmt.Printf("aatest: %-36s -> %s\n", what, res)
}

type op struct {
	name string
	fn   func() error
}

func ops() []op {
	x := dir + "/x"
	return []op{
		// The caller removes dir first, so every run does the same operations.
		{"mkdir " + dir, func() error { return os.Mkdir(dir, 0o755) }},
		{"read /etc/hostname", func() error { _, err := os.ReadFile("/etc/hostname"); return err }},
		{"write " + x, func() error { return os.WriteFile(x, []byte("hello\n"), 0o644) }},
		{"append " + x, func() error {
			f, err := os.OpenFile(x, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				return err
			}
			_, err = f.WriteString("more\n")
			return errors.Join(err, f.Close())
		}},
		{"mknod fifo " + dir + "/fifo", func() error { return syscall.Mknod(dir+"/fifo", syscall.S_IFIFO|0o600, 0) }},
		{"link " + x + " -> x.link", func() error { return os.Link(x, x+".link") }},
		{"rename x.link -> x.ren", func() error { return os.Rename(x+".link", x+".ren") }},
		{"chmod " + x + " 0600", func() error { return os.Chmod(x, 0o600) }},
		{"unlink x.ren", func() error { return os.Remove(x + ".ren") }},
		{"mkdir " + dir + "/d", func() error { return os.Mkdir(dir+"/d", 0o755) }},
		{"symlink x -> x.sym", func() error { return os.Symlink(x, x+".sym") }},
		{"chown " + x + " 1000:1000 (CAP_CHOWN)", func() error { return os.Chown(x, 1000, 1000) }},
		{"tcp 127.0.0.1:80 (CAP_NET_BIND_SERVICE)", tcpRoundTrip},
		{"udp socket", func() error { return socket(syscall.AF_INET, syscall.SOCK_DGRAM, 0) }},
		{"unix stream socket", func() error { return socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0) }},
		{"raw icmp socket (CAP_NET_RAW)", func() error { return socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_ICMP) }},
		{"exec /bin/true", func() error { return exec.Command("/bin/true").Run() }},
		{"ptrace and signal a child", ptraceChild},
		{"kill -0 pid 1", func() error { return syscall.Kill(1, 0) }},
		{"setuid 65534 (CAP_SETUID)", func() error { return syscall.Setuid(65534) }},
	}
}

func socket(family, typ, proto int) error {
	fd, err := syscall.Socket(family, typ, proto)
	if err != nil {
		return err
	}
	return syscall.Close(fd)
}

func tcpRoundTrip() error {
	ln, err := net.Listen("tcp4", "127.0.0.1:80")
	if err != nil {
		return err
	}
	defer ln.Close()
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		buf := make([]byte, 4)
		_, err = c.Read(buf)
		done <- errors.Join(err, c.Close())
	}()
	c, err := net.DialTimeout("tcp4", "127.0.0.1:80", 5*time.Second)
	if err != nil {
		return err
	}
	_, err = c.Write([]byte("ping"))
	err = errors.Join(err, c.Close())
	select {
	case aerr := <-done:
		return errors.Join(err, aerr)
	case <-time.After(5 * time.Second):
		return errors.Join(err, errors.New("accept timed out"))
	}
}

// ptraceChild runs /bin/sleep, attaches to it with ptrace, detaches, and
// kills it with SIGUSR1. ptrace requests must come from one OS thread.
func ptraceChild() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd := exec.Command("/bin/sleep", "5")
	if err := cmd.Start(); err != nil {
		return err
	}
	pid := cmd.Process.Pid
	time.Sleep(100 * time.Millisecond) // let the child finish its exec
	var errs []error
	if err := syscall.PtraceAttach(pid); err != nil {
		errs = append(errs, fmt.Errorf("ptrace attach: %w", err))
	} else {
		// Go's runtime interrupts system calls (SIGURG preemption): retry,
		// or the child would stay stopped and traced for ever.
		var ws syscall.WaitStatus
		var err error
		for {
			_, err = syscall.Wait4(pid, &ws, syscall.WALL, nil)
			if !errors.Is(err, syscall.EINTR) {
				break
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("wait for the stop: %w", err))
		}
		if err := syscall.PtraceDetach(pid); err != nil {
			errs = append(errs, fmt.Errorf("ptrace detach: %w", err))
		}
	}
	if err := syscall.Kill(pid, syscall.SIGUSR1); err != nil {
		errs = append(errs, fmt.Errorf("kill -USR1: %w", err))
	}
	if len(errs) > 0 {
		_ = cmd.Process.Kill() // SIGKILL ends even a stopped tracee
	}
	_ = cmd.Wait()
	return errors.Join(errs...)
}
