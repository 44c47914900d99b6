package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "auditd-lite:", err)
		os.Exit(1)
	}
}

func run() error {
	out := flag.String("o", "/var/log/audit/audit.log", "append records to this file")
	ready := flag.String("ready", "", "create this file once the kernel has accepted the registration")
	backlog := flag.Uint("b", 65536, "the kernel's audit backlog limit")
	flag.Parse()

	f, err := os.OpenFile(*out, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	defer f.Close()

	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_AUDIT)
	if err != nil {
		return fmt.Errorf("netlink audit socket: %w", err)
	}
	defer unix.Close(fd)
	// A large receive buffer, so bursts of records are not dropped.
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 8<<20); err != nil {
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, 8<<20)
	}
	kernel := &unix.SockaddrNetlink{Family: unix.AF_NETLINK}
	if err := unix.Sendto(fd, SetRequest(uint32(os.Getpid()), 1, uint32(*backlog)), 0, kernel); err != nil {
		return fmt.Errorf("AUDIT_SET: %w", err)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sigs
		f.Sync()
		os.Exit(0)
	}()

	buf := make([]byte, 1<<16)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.ENOBUFS) {
				fmt.Fprintln(os.Stderr, "auditd-lite: receive buffer overrun: records lost")
				continue
			}
			return fmt.Errorf("receive: %w", err)
		}
		m, err := ParseDatagram(buf[:n])
		if err != nil {
			fmt.Fprintln(os.Stderr, "auditd-lite:", err)
			continue
		}
		if m.Type == nlmsgError {
			if m.Errno != 0 {
				return fmt.Errorf("the kernel refused the registration: %w", unix.Errno(-m.Errno))
			}
			fmt.Fprintf(os.Stderr, "auditd-lite: registered as the audit daemon (pid %d), writing %s\n", os.Getpid(), *out)
			if *ready != "" {
				if err := os.WriteFile(*ready, nil, 0o644); err != nil {
					return fmt.Errorf("ready file: %w", err)
				}
			}
			continue
		}
		if line, ok := Format(m); ok {
			if _, err := f.Write(line); err != nil {
				return fmt.Errorf("write log: %w", err)
			}
		}
	}
}
