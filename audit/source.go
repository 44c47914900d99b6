package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// This file holds what every line-oriented source shares: splitting a byte
// stream into lines while tracking offsets, opening plain or gzip files, and
// a file's identity (device and inode) for cursors and rotation.

// maxLine caps one log line. The kernel never writes a line this long; a
// longer one is bad input and is cut (the parser then reports it malformed)
// instead of growing memory without bound.
const maxLine = 1 << 20

// chunkSize is how much a source reads at a time.
const chunkSize = 256 << 10

// emitFunc receives one line (without its newline; valid only during the
// call) and its 1-based line number in the source.
type emitFunc func(line []byte, lineNo int) error

// splitter turns chunks of a byte stream into lines. off is the offset just
// past the last complete line, so a reader can resume there.
type splitter struct {
	partial []byte
	pending int64 // bytes of the partial line seen (may exceed len(partial) when cut)
	off     int64
	lineNo  int
}

// feed splits chunk into lines, calling emit for each complete one.
func (s *splitter) feed(chunk []byte, emit emitFunc) error {
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 {
			s.keep(chunk)
			return nil
		}
		line := chunk[:i]
		n := s.pending + int64(i) + 1
		if s.pending > 0 {
			s.keep(line)
			line = s.partial
		}
		s.off += n
		s.pending = 0
		s.lineNo++
		chunk = chunk[i+1:]
		err := emit(trimCR(line), s.lineNo)
		s.partial = s.partial[:0]
		if err != nil {
			return err
		}
	}
	return nil
}

// keep appends b to the partial line, up to maxLine bytes.
func (s *splitter) keep(b []byte) {
	s.pending += int64(len(b))
	if room := maxLine - len(s.partial); room > 0 {
		if len(b) > room {
			b = b[:room]
		}
		s.partial = append(s.partial, b...)
	}
}

// finish emits a last line that has no newline (end of a finished file).
func (s *splitter) finish(emit emitFunc) error {
	if s.pending == 0 {
		return nil
	}
	line := s.partial
	s.off += s.pending
	s.pending = 0
	s.lineNo++
	err := emit(trimCR(line), s.lineNo)
	s.partial = s.partial[:0]
	return err
}

// reset starts over at offset 0 (a truncated file).
func (s *splitter) reset() {
	s.partial = s.partial[:0]
	s.pending = 0
	s.off = 0
	s.lineNo = 0
}

func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// FileID is a file's identity: it survives renames, and a file created in
// its place has another.
type FileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

func idOf(fi os.FileInfo) FileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return FileID{Dev: uint64(st.Dev), Ino: st.Ino} //nolint:unconvert // Dev is uint32 on some platforms
	}
	return FileID{}
}

// isGzip reports whether the reader starts with gzip's magic bytes.
func isGzip(br *bufio.Reader) bool {
	b, err := br.Peek(2)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}

// openLog opens a log file for reading from offset skip of its text,
// decompressing gzip transparently (by content, not by name).
func openLog(path string, skip int64) (io.Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, chunkSize)
	if !isGzip(br) {
		if skip > 0 {
			if _, err := f.Seek(skip, io.SeekStart); err != nil {
				_ = f.Close()
				return nil, nil, fmt.Errorf("%s: seek: %w", path, err)
			}
			br.Reset(f)
		}
		return br, f, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%s: gzip: %w", path, err)
	}
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, zr, skip); err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("%s: skip to %d: %w", path, skip, err)
		}
	}
	return zr, f, nil
}

// readLines reads r to its end, emitting lines. Offsets start at off and
// line numbers continue from lineNo (resuming at a cursor). It returns the
// splitter so callers can see the final offset and line number.
func readLines(r io.Reader, off int64, lineNo int, emit emitFunc) (*splitter, error) {
	s := &splitter{off: off, lineNo: lineNo}
	buf := make([]byte, chunkSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if ferr := s.feed(buf[:n], emit); ferr != nil {
				return s, ferr
			}
		}
		if err == io.EOF {
			return s, s.finish(emit)
		}
		if err != nil {
			return s, err
		}
	}
}

// aheadChunks is how many chunks readLinesAhead reads before they are used.
const aheadChunks = 3

// readLinesAhead is readLines with the reading (gzip's decompression)
// done in a goroutine of its own, up to
// aheadChunks chunks ahead of the lines being parsed: on a machine with a
// second CPU the two overlap. For regular files only: it returns only once
// the goroutine has stopped, which a pipe could delay indefinitely.
func readLinesAhead(r io.Reader, off int64, lineNo int, emit emitFunc) (*splitter, error) {
	type chunk struct {
		b   []byte
		err error
	}
	full := make(chan chunk, aheadChunks)
	free := make(chan []byte, aheadChunks+1)
	for range aheadChunks + 1 {
		free <- make([]byte, chunkSize)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		for {
			var b []byte
			select {
			case b = <-free:
			case <-done:
				return
			}
			n, err := r.Read(b)
			select {
			case full <- chunk{b[:n], err}:
			case <-done:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(done)
		<-stopped
	}()
	s := &splitter{off: off, lineNo: lineNo}
	for c := range full {
		if len(c.b) > 0 {
			if ferr := s.feed(c.b, emit); ferr != nil {
				return s, ferr
			}
		}
		free <- c.b[:cap(c.b)]
		if c.err == io.EOF {
			return s, s.finish(emit)
		}
		if c.err != nil {
			return s, c.err
		}
	}
	panic("unreachable: the reading goroutine stops only after an error or when told")
}

func newGzip(r io.Reader) (io.Reader, error) {
	return gzip.NewReader(r)
}

var stampKey = []byte("audit(")

// stampTime returns the time of a line's audit(SEC.MSEC:SERIAL) stamp, or
// the zero time. It is a cheap look, not a parse: rotated files are dated
// and cursors timed with it.
func stampTime(line []byte) time.Time {
	i := bytes.Index(line, stampKey)
	if i < 0 {
		return time.Time{}
	}
	b := line[i+len(stampKey):]
	var sec, ms int64
	j := 0
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9' && j < 12; j++ {
		sec = sec*10 + int64(b[j]-'0')
	}
	if j == 0 || j >= len(b) || b[j] != '.' {
		return time.Time{}
	}
	j++
	k := j
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9' && j-k < 3; j++ {
		ms = ms*10 + int64(b[j]-'0')
	}
	if j-k != 3 {
		return time.Time{}
	}
	return time.Unix(sec, ms*int64(time.Millisecond))
}
