package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type heldLock struct {
	f     *os.File
	count int
}

// ErrLocked is wrapped by Lock's error when another process holds the lock
// past the timeout.
var ErrLocked = errors.New("profile is locked by another aa-flow process")

// Lock takes the profile's lock (flock(2) on StateDir/NAME/lock), waiting up
// to LockTimeout for another process to release it; the error then names the
// holder's pid. The lock is reentrant within one Store: a nested Lock of a
// name this Store already holds succeeds at once, and the file lock is
// released when the outermost unlock runs. The kernel drops the lock if the
// process dies, so a crash never leaves a profile locked.
func (s *Store) Lock(name string) (unlock func() error, err error) {
	d, err := s.ensureDir(name)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held == nil {
		s.held = map[string]*heldLock{}
	}
	if h, ok := s.held[name]; ok {
		h.count++
		return s.unlocker(name), nil
	}
	p := filepath.Join(d, "lock")
	f, err := openSafe(p, os.O_RDWR|os.O_CREATE, filePerm)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	timeout := s.LockTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	if err := flockWait(f, timeout, 50*time.Millisecond); err != nil {
		f.Close()
		if !errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		holder := "unknown pid"
		if b, rerr := readSafe(p); rerr == nil {
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				holder = "pid " + strconv.Itoa(pid)
			}
		}
		return nil, fmt.Errorf("%s: %w (%s holds %s; waited %s)", name, ErrLocked, holder, p, timeout)
	}
	// Record the holder for the error message of the next process.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	s.held[name] = &heldLock{f: f, count: 1}
	return s.unlocker(name), nil
}

func (s *Store) unlocker(name string) func() error {
	done := false
	return func() error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if done {
			return nil
		}
		done = true
		h, ok := s.held[name]
		if !ok {
			return nil
		}
		h.count--
		if h.count > 0 {
			return nil
		}
		delete(s.held, name)
		_ = h.f.Truncate(0)
		uerr := syscall.Flock(int(h.f.Fd()), syscall.LOCK_UN)
		cerr := h.f.Close()
		if uerr != nil {
			return fmt.Errorf("unlock %s: %w", name, uerr)
		}
		if cerr != nil {
			return fmt.Errorf("unlock %s: %w", name, cerr)
		}
		return nil
	}
}

// LockDir takes an exclusive flock(2) on the directory dir itself, for
// writers of files in it that are no one managed profile's (fmt -w, learn
// into a file named with --profile-file): one of them at a time changes a
// file there. It waits as Lock does, 10s. The lock is not reentrant: a
// second LockDir of dir in one process waits for the first.
func LockDir(dir string) (unlock func() error, err error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if err := flockWait(f, 10*time.Second, 20*time.Millisecond); err != nil {
		f.Close()
		if errors.Is(err, ErrLocked) {
			return nil, fmt.Errorf("%s: %w", dir, err)
		}
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	done := false
	return func() error {
		if done {
			return nil
		}
		done = true
		uerr := syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		return errors.Join(uerr, f.Close())
	}, nil
}

// flockWait takes an exclusive flock on f, trying every poll until timeout
// has passed; ErrLocked when it has, the flock error when it fails otherwise.
func flockWait(f *os.File, timeout, poll time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			return err
		}
		if time.Now().After(deadline) {
			return ErrLocked
		}
		time.Sleep(poll)
	}
}
