package audit

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"github.com/aa-flow/aa-flow/audit/internal/tail"
	"io"
	"io/fs"
	"os"
	"time"
)

// fileSource reads a log file: its rotated predecessors as far back as
// Since or the cursor needs, the file itself, and with Follow what is
// written to it afterwards.
type fileSource struct {
	path string
	opt  ReadOptions
	pos  SourceCursor
	gone []Lost // possible losses across rotations while following
}

func newFileSource(path string, opt ReadOptions) *fileSource {
	return &fileSource{path: path, opt: opt, pos: SourceCursor{Source: path}}
}

func (s *fileSource) name() string           { return s.path }
func (s *fileSource) lost() []Lost           { return s.gone }
func (s *fileSource) position() SourceCursor { return s.pos }

// part is one file to read, from an offset.
type part struct {
	path   string
	off    int64
	lineNo int
}

func (s *fileSource) run(ctx context.Context, r *reader) error {
	cur := s.opt.Cursor.Get(s.path)
	parts := s.plan(cur)
	if t, ok := r.after[s.path]; ok {
		r.mu.Lock()
		for _, p := range parts {
			r.after[p.path] = t
		}
		r.mu.Unlock()
	}
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil //nolint:nilerr // cancelled: stop quietly
		}
		if err := s.readPart(p, r); err != nil {
			return err
		}
	}
	if !s.opt.Follow {
		return nil
	}
	// Follow from where reading stopped (the live file's identity and
	// offset), so nothing between the two is lost or read twice.
	start := s.pos
	fl := tail.NewFollower(s.path, s.opt.Poll)
	var last time.Time
	err := fl.Run(ctx, &tail.Position{ID: start.ID, Offset: start.Offset, Line: start.Line}, func(line []byte, lineNo int) error {
		if t := stampTime(line); !t.IsZero() {
			last = t
		}
		return r.line(line, s.path, lineNo)
	})
	for _, what := range fl.Losses() {
		s.gone = append(s.gone, Lost{Source: s.path, Kind: "rotation", Advice: what})
	}
	if at := fl.Stopped(); at.ID != (FileID{}) {
		s.pos.ID, s.pos.Offset, s.pos.Line = at.ID, at.Offset, at.Line
	}
	if !last.IsZero() {
		s.pos.Time = last
	}
	return err
}

// plan lists what to read: with a cursor whose file is found (the live
// file, or a rotated one by identity), from its offset on; with Since, the
// rotated files back to the one that starts before Since; otherwise the
// file alone.
func (s *fileSource) plan(cur *SourceCursor) []part {
	live := part{path: s.path}
	if cur != nil && cur.ID != (FileID{}) {
		if fi, err := os.Stat(s.path); err == nil && tail.IDOf(fi) == cur.ID && fi.Size() >= cur.Offset {
			return []part{{path: s.path, off: cur.Offset, lineNo: cur.Line}}
		}
		rotated := tail.Rotated(s.path)
		for i, name := range rotated {
			fi, err := os.Stat(name)
			if err != nil || tail.IDOf(fi) != cur.ID || fi.Size() < cur.Offset {
				continue
			}
			parts := []part{{path: name, off: cur.Offset, lineNo: cur.Line}}
			for j := i - 1; j >= 0; j-- {
				parts = append(parts, part{path: rotated[j]})
			}
			return append(parts, live)
		}
	}
	since := s.opt.Since
	if cur != nil && cur.Time.After(since) {
		since = cur.Time // the position is lost: go back to the time instead
	}
	if since.IsZero() {
		return []part{live}
	}
	if t, ok := firstStamp(s.path); ok && !t.After(since) {
		return []part{live}
	}
	var older []part
	for _, name := range tail.Rotated(s.path) {
		older = append(older, part{path: name})
		if t, ok := firstStamp(name); ok && !t.After(since) {
			break
		}
	}
	parts := make([]part, 0, len(older)+1)
	for i := len(older) - 1; i >= 0; i-- {
		parts = append(parts, older[i])
	}
	return append(parts, live)
}

func (s *fileSource) readPart(p part, r *reader) error {
	rd, f, err := tail.Open(p.path, p.off)
	if errors.Is(err, fs.ErrNotExist) && (p.path != s.path || s.opt.Follow) {
		return nil // rotated away meanwhile, or not yet created
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", p.path, err)
	}
	defer f.Close()
	r.mu.Lock()
	r.newest = time.Time{}
	r.mu.Unlock()
	emit := func(line []byte, lineNo int) error { return r.line(line, p.path, lineNo) }
	// A regular file never blocks for long: take the reader's lock once
	// for the whole part rather than once per line (about 8% of the CPU
	// of reading a large audit.log). A FIFO or other special file keeps
	// the per-line lock, so the idle flusher can run while it waits.
	regular := false
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		regular = true
		r.mu.Lock()
		emit = func(line []byte, lineNo int) error { return r.lineLocked(line, p.path, lineNo) }
	}
	read := tail.ReadLines
	if _, gz := rd.(*gzip.Reader); gz && regular {
		// Decompressing costs as much as parsing: overlap the two. A
		// plain file's reads are a copy out of the page cache, cheaper
		// than the wake-ups a second goroutine would cost.
		read = tail.ReadLinesAhead
	}
	sp, err := read(rd, p.off, p.lineNo, emit)
	if regular {
		r.mu.Unlock()
	}
	r.mu.Lock()
	last := r.newest // sources are read one after the other here
	r.mu.Unlock()
	if err != nil {
		if r.err != nil {
			return err
		}
		return fmt.Errorf("read %s: %w", p.path, err)
	}
	if p.path == s.path {
		if fi, err := f.Stat(); err == nil && !tail.IsGzipFile(f) {
			s.pos.ID, s.pos.Offset, s.pos.Line = tail.IDOf(fi), sp.Offset(), sp.Line()
		}
	}
	if !last.IsZero() {
		s.pos.Time = last
	}
	return nil
}

// stdinSource reads standard input once; it has no position to resume.
type stdinSource struct {
	in io.Reader
}

func (s *stdinSource) name() string           { return "-" }
func (s *stdinSource) lost() []Lost           { return nil }
func (s *stdinSource) position() SourceCursor { return SourceCursor{} }

func (s *stdinSource) run(_ context.Context, r *reader) error {
	br := bufio.NewReaderSize(s.in, tail.ChunkSize)
	var rd io.Reader = br
	if tail.IsGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		rd = zr
	}
	_, err := tail.ReadLines(rd, 0, 0, func(line []byte, lineNo int) error {
		return r.line(line, "-", lineNo)
	})
	if err != nil && r.err == nil {
		return fmt.Errorf("read stdin: %w", err)
	}
	return err
}

// firstStamp returns the time of the first audit(...) stamp in the first
// lines of a log file (gzip or not).
func firstStamp(path string) (time.Time, bool) {
	rd, f, err := tail.Open(path, 0)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	br := bufio.NewReaderSize(rd, 64<<10)
	for range 1000 {
		line, err := br.ReadSlice('\n')
		if t := stampTime(line); !t.IsZero() {
			return t, true
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			break
		}
	}
	return time.Time{}, false
}
