package source

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/aa-flow/aa-flow/audit/internal/tail"
)

// fileSource reads a log file: its rotated predecessors as far back as
// Since or the cursor needs, the file itself, and with Follow what is
// written to it afterwards.
type fileSource struct {
	path string
	opt  Options
	pos  Position
	gone []Loss // possible losses across rotations while following
	// resumed: the cursor's file was found and reading starts at its
	// offset (see Resumer).
	resumed bool
}

// File is the source that reads the log file at path (gzip or not): its
// rotated predecessors (NAME.1, NAME.2.gz, NAME-DATE) as far back as
// opt.Since or the cursor needs, the file, and with opt.Follow what is
// written to it afterwards, across rotations. Its lines are Text.
func File(path string, opt Options) Source {
	return &fileSource{path: path, opt: opt, pos: Position{Source: path}}
}

func (s *fileSource) Name() string       { return s.path }
func (s *fileSource) Lost() []Loss       { return s.gone }
func (s *fileSource) Position() Position { return s.pos }
func (s *fileSource) Resumed() bool      { return s.resumed }

// part is one file to read, from an offset.
type part struct {
	path   string
	off    int64
	lineNo int
}

func (s *fileSource) Run(ctx context.Context, emit Emit) error {
	parts := s.plan(s.opt.Cursor.Get(s.path))
	for _, p := range parts {
		if err := ctx.Err(); err != nil {
			return nil //nolint:nilerr // cancelled: stop quietly
		}
		if err := s.readPart(p, emit); err != nil {
			return err
		}
	}
	if !s.opt.Follow {
		return nil
	}
	// Follow from where reading stopped (the live file's identity and
	// offset), so nothing between the two is lost or read twice.
	fl := tail.NewFollower(s.path, s.opt.Poll)
	var last time.Time
	l := Line{Source: s.path}
	err := fl.Run(ctx, &tail.Position{ID: s.pos.ID, Offset: s.pos.Offset, Line: s.pos.Line}, func(line []byte, lineNo int) error {
		if t := stampTime(line); !t.IsZero() {
			last = t
		}
		l.Text, l.No = line, lineNo
		return emit(&l)
	})
	for _, what := range fl.Losses() {
		s.gone = append(s.gone, Loss{Source: s.path, Kind: "rotation", Advice: what})
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
func (s *fileSource) plan(cur *Position) []part {
	live := part{path: s.path}
	if cur != nil && cur.ID != (FileID{}) {
		if fi, err := os.Stat(s.path); err == nil && tail.IDOf(fi) == cur.ID && fi.Size() >= cur.Offset {
			s.resumed = true
			return []part{{path: s.path, off: cur.Offset, lineNo: cur.Line}}
		}
		rotated := tail.Rotated(s.path)
		for i, name := range rotated {
			fi, err := os.Stat(name)
			if err != nil || tail.IDOf(fi) != cur.ID || fi.Size() < cur.Offset {
				continue
			}
			s.resumed = true
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

func (s *fileSource) readPart(p part, emit Emit) error {
	rd, f, err := tail.Open(p.path, p.off)
	if errors.Is(err, fs.ErrNotExist) && (p.path != s.path || s.opt.Follow) {
		return nil // rotated away meanwhile, or not yet created
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", p.path, err)
	}
	defer f.Close()
	l := Line{Source: s.path}
	if p.path != s.path {
		l.File = p.path
	}
	var stop error // emit's own error, returned as it is
	l.Offset = p.off
	each := func(line []byte, lineNo int) error {
		l.Text, l.No = line, lineNo
		l.Offset += int64(len(line)) + 1
		stop = emit(&l)
		return stop
	}
	read := tail.ReadLines
	if _, gz := rd.(*gzip.Reader); gz {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
			// Decompressing costs as much as parsing: overlap the two. A
			// plain file's reads are a copy out of the page cache, cheaper
			// than the wake-ups a second goroutine would cost; a pipe
			// could keep the reading goroutine waiting.
			read = tail.ReadLinesAhead
		}
	}
	sp, err := read(rd, p.off, p.lineNo, each)
	if err != nil {
		if stop != nil {
			return err
		}
		return fmt.Errorf("read %s: %w", p.path, err)
	}
	if p.path == s.path {
		if fi, err := f.Stat(); err == nil && !tail.IsGzipFile(f) {
			s.pos.ID, s.pos.Offset, s.pos.Line = tail.IDOf(fi), sp.Offset(), sp.Line()
		}
	}
	return nil
}

// stdinSource reads standard input once; it has no position to resume.
type stdinSource struct {
	in io.Reader
}

// Stdin is the source that reads in (gzip or not) once, as "-". Its lines
// are Text.
func Stdin(in io.Reader) Source {
	return &stdinSource{in: in}
}

func (s *stdinSource) Name() string       { return "-" }
func (s *stdinSource) Lost() []Loss       { return nil }
func (s *stdinSource) Position() Position { return Position{} }

func (s *stdinSource) Run(_ context.Context, emit Emit) error {
	br := bufio.NewReaderSize(s.in, tail.ChunkSize)
	var rd io.Reader = br
	if tail.IsGzip(br) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("read stdin: %w", err)
		}
		rd = zr
	}
	l := Line{Source: "-"}
	var stop error
	_, err := tail.ReadLines(rd, 0, 0, func(line []byte, lineNo int) error {
		l.Text, l.No = line, lineNo
		stop = emit(&l)
		return stop
	})
	if err != nil && stop == nil {
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
