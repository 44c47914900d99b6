package main

import (
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"syscall"
	"unsafe"
)

// newerOps are the operations whose records only newer kernels and ABIs
// produce (userns, mqueue, io_uring, fine-grained unix), and a mount.
func newerOps() []op {
	return []op{
		{"user namespace (clone CLONE_NEWUSER)", func() error {
			cmd := exec.Command("/bin/true")
			cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWUSER}
			return cmd.Run()
		}},
		{"mq_open /aatest (O_CREAT)", mqueue},
		{"io_uring_setup (SQPOLL)", ioUring},
		{"unix stream by path " + dir + "/sock", unixPath},
		{"unix dgram, abstract @aatest", unixAbstract},
		{"unix socketpair", func() error {
			fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			if err != nil {
				return err
			}
			_, err = syscall.Write(fds[0], []byte("x"))
			return errors.Join(err, syscall.Close(fds[0]), syscall.Close(fds[1]))
		}},
		{"mount tmpfs " + dir + "/m", func() error {
			if err := os.MkdirAll(dir+"/m", 0o755); err != nil {
				return err
			}
			if err := syscall.Mount("tmpfs", dir+"/m", "tmpfs", 0, "size=1m"); err != nil {
				return err
			}
			return syscall.Unmount(dir+"/m", 0)
		}},
	}
}

func mqueue() error {
	name, err := syscall.BytePtrFromString("aatest")
	if err != nil {
		return err
	}
	fd, _, errno := syscall.Syscall6(syscall.SYS_MQ_OPEN, uintptr(unsafe.Pointer(name)),
		uintptr(syscall.O_CREAT|syscall.O_RDWR), 0o600, 0, 0, 0)
	if errno != 0 {
		return errno
	}
	_, _, errno = syscall.Syscall(syscall.SYS_MQ_UNLINK, uintptr(unsafe.Pointer(name)), 0, 0)
	return errors.Join(syscall.Close(int(fd)), errnoErr(errno))
}

func errnoErr(e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// ioUring sets up a ring with a kernel polling thread (IORING_SETUP_SQPOLL),
// which AppArmor 4.x mediates as io_uring sqpoll.
func ioUring() error {
	const sysIOUringSetup = 425
	const setupSQPoll = 1 << 1
	var params [120]byte // struct io_uring_params
	*(*uint32)(unsafe.Pointer(&params[8])) = setupSQPoll
	fd, _, errno := syscall.Syscall(sysIOUringSetup, 4, uintptr(unsafe.Pointer(&params[0])), 0)
	if errno != 0 {
		return errno
	}
	return syscall.Close(int(fd))
}

// unixPath echoes a byte over a stream socket bound to a path. The server
// answers before it closes: closing at once made the client's write race
// the close and fail with a broken pipe now and then, which looked like a
// denial the kernel never logged.
func unixPath() error {
	path := dir + "/sock"
	_ = os.Remove(path)
	ln, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			served <- err
			return
		}
		b := make([]byte, 1)
		_, err = io.ReadFull(c, b)
		if err == nil {
			_, err = c.Write(b)
		}
		served <- errors.Join(err, c.Close())
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	b := []byte("x")
	if _, err = c.Write(b); err == nil {
		_, err = io.ReadFull(c, b)
	}
	return errors.Join(err, c.Close(), <-served)
}

func unixAbstract() error {
	srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "@aatest", Net: "unixgram"})
	if err != nil {
		return err
	}
	defer srv.Close()
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: "@aatest", Net: "unixgram"})
	if err != nil {
		return err
	}
	_, err = c.Write([]byte("x"))
	return errors.Join(err, c.Close())
}
