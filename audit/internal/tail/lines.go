package tail

import (
	"bytes"
	"io"
)

// This file holds what every line-oriented reader shares: splitting a byte
// stream into lines while tracking offsets.

// maxLine caps one log line. The kernel never writes a line this long; a
// longer one is bad input and is cut (the parser then reports it malformed)
// instead of growing memory without bound.
const maxLine = 1 << 20

// ChunkSize is how much a reader reads at a time.
const ChunkSize = 256 << 10

// Emit receives one line (without its newline; valid only during the
// call) and its 1-based line number in the source.
type Emit func(line []byte, lineNo int) error

// Splitter turns chunks of a byte stream into lines. off is the offset just
// past the last complete line, so a reader can resume there.
type Splitter struct {
	partial []byte
	pending int64 // bytes of the partial line seen (may exceed len(partial) when cut)
	off     int64
	lineNo  int
}

// Feed splits chunk into lines, calling emit for each complete one.
func (s *Splitter) Feed(chunk []byte, emit Emit) error {
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

// Offset is the offset just past the last complete line.
func (s *Splitter) Offset() int64 { return s.off }

// Line is the number of the last line emitted.
func (s *Splitter) Line() int { return s.lineNo }

// keep appends b to the partial line, up to maxLine bytes.
func (s *Splitter) keep(b []byte) {
	s.pending += int64(len(b))
	if room := maxLine - len(s.partial); room > 0 {
		if len(b) > room {
			b = b[:room]
		}
		s.partial = append(s.partial, b...)
	}
}

// Finish emits a last line that has no newline (end of a finished file).
func (s *Splitter) Finish(emit Emit) error {
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
func (s *Splitter) reset() {
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

// ReadLines reads r to its end, emitting lines. Offsets start at off and
// line numbers continue from lineNo (resuming at a cursor). It returns the
// Splitter so callers can see the final offset and line number.
func ReadLines(r io.Reader, off int64, lineNo int, emit Emit) (*Splitter, error) {
	s := &Splitter{off: off, lineNo: lineNo}
	buf := make([]byte, ChunkSize)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if ferr := s.Feed(buf[:n], emit); ferr != nil {
				return s, ferr
			}
		}
		if err == io.EOF {
			return s, s.Finish(emit)
		}
		if err != nil {
			return s, err
		}
	}
}

// aheadChunks is how many chunks ReadLinesAhead reads before they are used.
const aheadChunks = 3

// ReadLinesAhead is ReadLines with the reading (gzip's decompression)
// done in a goroutine of its own, up to
// aheadChunks chunks ahead of the lines being parsed: on a machine with a
// second CPU the two overlap. For regular files only: it returns only once
// the goroutine has stopped, which a pipe could delay indefinitely.
func ReadLinesAhead(r io.Reader, off int64, lineNo int, emit Emit) (*Splitter, error) {
	type chunk struct {
		b   []byte
		err error
	}
	full := make(chan chunk, aheadChunks)
	free := make(chan []byte, aheadChunks+1)
	for range aheadChunks + 1 {
		free <- make([]byte, ChunkSize)
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
	s := &Splitter{off: off, lineNo: lineNo}
	for c := range full {
		if len(c.b) > 0 {
			if ferr := s.Feed(c.b, emit); ferr != nil {
				return s, ferr
			}
		}
		free <- c.b[:cap(c.b)]
		if c.err == io.EOF {
			return s, s.Finish(emit)
		}
		if c.err != nil {
			return s, c.err
		}
	}
	panic("unreachable: the reading goroutine stops only after an error or when told")
}
