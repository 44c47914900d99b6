package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/aa-flow/aa-flow/audit/internal/tail"
)

// kmsgSource reads the kernel's ring buffer through /dev/kmsg (or a file
// of records in its format, for tests). Each record is
// "PRI,SEQ,USEC,FLAGS[,...];message" followed by continuation lines that
// start with a space (dictionary key=value pairs, ignored here). Reading is
// non-blocking to the end unless following. EPIPE from read, or a jump in
// sequence numbers, means the ring buffer overwrote records before they
// were read: that is reported as lost.
type kmsgSource struct {
	path    string
	opt     Options
	pos     Position
	lastSeq uint64
	haveSeq bool
	records int
	gaps    []Loss
	overrun bool // EPIPE seen: the next sequence gap is certain loss
	boot    time.Time
}

const adviceKmsg = "the kernel ring buffer overwrote records before they were read: boot with a larger log_buf_len= (e.g. log_buf_len=4M), read more often, or run auditd so records bypass the kernel log"

// Kmsg is the source that reads the kernel's ring buffer through the
// character device at path (/dev/kmsg), or a file of records in its format.
// It is named "kmsg"; its lines are the records' messages, of Origin
// Kernel.
func Kmsg(path string, opt Options) Source {
	return &kmsgSource{path: path, opt: opt, pos: Position{Source: "kmsg"}}
}

func (s *kmsgSource) Name() string       { return "kmsg" }
func (s *kmsgSource) Lost() []Loss       { return s.gaps }
func (s *kmsgSource) Position() Position { return s.pos }

// Resumed reports whether Run skips to after the cursor's sequence number.
func (s *kmsgSource) Resumed() bool {
	cur := s.opt.Cursor.Get("kmsg")
	return cur != nil && cur.Seq > 0
}

func (s *kmsgSource) Run(ctx context.Context, emit Emit) error {
	fd, err := unix.Open(s.path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("read %s: %w", s.path, err)
	}
	defer unix.Close(fd)
	var skip uint64
	if cur := s.opt.Cursor.Get("kmsg"); cur != nil {
		skip = cur.Seq
		s.pos.Seq = cur.Seq
	}
	var sp tail.Splitter
	buf := make([]byte, 16<<10) // /dev/kmsg returns one record per read; it must fit
	l := Line{Source: "kmsg", Origin: Kernel}
	each := func(line []byte, _ int) error { return s.record(line, skip, &l, emit) }
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case err == nil && n > 0:
			if ferr := sp.Feed(buf[:n], each); ferr != nil {
				return ferr
			}
			continue
		case errors.Is(err, unix.EPIPE):
			s.overrun = true
			continue
		case errors.Is(err, unix.EINTR):
			continue
		case err == nil || errors.Is(err, unix.EAGAIN):
			// End of what is there (n == 0 for a regular file).
		default:
			return fmt.Errorf("read %s: %w", s.path, err)
		}
		if !s.opt.Follow {
			return sp.Finish(each)
		}
		if done, err := waitReadable(ctx, fd); done || err != nil {
			return err
		}
	}
}

// waitReadable waits until fd has data or ctx is done (then done is true).
func waitReadable(ctx context.Context, fd int) (bool, error) {
	for {
		if ctx.Err() != nil {
			return true, nil
		}
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 200)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("poll: %w", err)
		}
		if n > 0 {
			// A regular file is always "readable": sleep instead of spinning.
			if pfd[0].Revents&unix.POLLIN != 0 {
				var st unix.Stat_t
				if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
					select {
					case <-ctx.Done():
						return true, nil
					case <-time.After(200 * time.Millisecond):
					}
				}
			}
			return false, nil
		}
	}
}

// bootTime is when the kernel's clock for /dev/kmsg stamps (the monotonic
// clock) was zero, in wall-clock time.
func (s *kmsgSource) bootTime() time.Time {
	if s.boot.IsZero() {
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err == nil {
			s.boot = time.Now().Add(-time.Duration(ts.Nano()))
		}
	}
	return s.boot
}

// record handles one line of /dev/kmsg output.
func (s *kmsgSource) record(line []byte, skip uint64, l *Line, emit Emit) error {
	if len(line) == 0 || line[0] == ' ' {
		return nil // continuation (dictionary) line
	}
	semi := bytes.IndexByte(line, ';')
	if semi < 0 {
		return nil
	}
	hdr, msg := line[:semi], line[semi+1:]
	fields := bytes.SplitN(hdr, []byte{','}, 4)
	if len(fields) < 3 {
		return nil
	}
	seq, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil {
		return nil //nolint:nilerr // not a kmsg record header
	}
	if seq <= skip && skip > 0 {
		return nil
	}
	s.records++
	if s.haveSeq && seq > s.lastSeq+1 {
		s.gaps = append(s.gaps, Loss{Source: "kmsg", Line: s.records, Kind: "kmsg-overwritten", Count: int(seq - s.lastSeq - 1), Advice: adviceKmsg})
	} else if !s.haveSeq && s.overrun {
		s.gaps = append(s.gaps, Loss{Source: "kmsg", Line: s.records, Kind: "kmsg-overwritten", Advice: adviceKmsg})
	}
	s.overrun = false
	s.lastSeq, s.haveSeq = seq, true
	s.pos.Seq = seq
	if t := stampTime(msg); !t.IsZero() {
		s.pos.Time = t
	}
	l.Text, l.No, l.Origin, l.Time = msg, s.records, Kernel, time.Time{}
	if usec, err := strconv.ParseInt(string(fields[2]), 10, 64); err == nil {
		l.Time = s.bootTime().Add(time.Duration(usec) * time.Microsecond)
	}
	if pri, err := strconv.ParseUint(string(fields[0]), 10, 32); err != nil || pri>>3 != 0 {
		// A facility other than the kernel's (0): written to /dev/kmsg
		// from user space.
		l.Origin = Other
	}
	return emit(l)
}
