package audit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// A follower reads the lines appended to a log file as they are written,
// across both ways logrotate rotates a file:
//
//   - rename + create: the old file is read to its end, and kept open and
//     drained until the new file receives data, so lines the writer still
//     sends to the old file after the rename are not lost;
//   - copytruncate: the shrink is noticed (by size, or by the bytes before
//     the read offset no longer being what was read), the rest of the old
//     content is read from the rotated copy when it can be found, and
//     reading restarts at offset 0.
//
// It wakes on fsnotify events for the file's directory and, as a fallback
// (network filesystems, inotify limits), on a poll interval.
type follower struct {
	path string
	poll time.Duration
	cur  *tailFile
	old  *tailFile // the renamed file, drained until the new one has data
	buf  []byte
	// newest is the identity of the newest rotated sibling last seen: a new
	// one that is no file the follower had open is logrotate's copy.
	newest  FileID
	opened  map[FileID]bool // files the follower had open: their renames are no copies
	stopped struct {
		id   FileID
		off  int64
		line int
	}
}

// tailFile is one open file being followed.
type tailFile struct {
	f   *os.File
	id  FileID
	sp  splitter
	pos int64 // file offset of the next read
	// tail holds the last bytes before sp.off, to notice a copytruncate
	// that was followed by enough new writes to hide the shrink.
	tail   []byte
	opened time.Time
}

const tailCheck = 64

func newFollower(path string, poll time.Duration) *follower {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	return &follower{path: path, poll: poll, buf: make([]byte, chunkSize)}
}

// lastPosition returns where the follower stood in the current file when
// it stopped.
func (fl *follower) lastPosition() (FileID, int64, int) {
	return fl.stopped.id, fl.stopped.off, fl.stopped.line
}

func (fl *follower) position() (FileID, int64, int) {
	if fl.cur == nil {
		return FileID{}, 0, 0
	}
	return fl.cur.id, fl.cur.sp.off, fl.cur.sp.lineNo
}

// run follows the file until ctx is done, emitting every line. If start
// names the file's current identity, reading starts at its offset; a missing
// file is waited for.
func (fl *follower) run(ctx context.Context, start *SourceCursor, emit emitFunc) error {
	defer fl.close()
	defer func() { fl.stopped.id, fl.stopped.off, fl.stopped.line = fl.position() }()
	w, werr := fsnotify.NewWatcher()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if werr == nil {
		defer w.Close()
		if err := w.Add(filepath.Dir(fl.path)); err == nil {
			events, errs = w.Events, w.Errors
		}
	}
	tick := time.NewTicker(fl.poll)
	defer tick.Stop()

	if err := fl.open(start); err != nil {
		return err
	}
	fl.newest, _ = fl.newestRotated()
	for {
		if err := fl.step(emit); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-events:
		case <-errs:
		case <-tick.C:
		}
	}
}

func (fl *follower) close() {
	for _, t := range []*tailFile{fl.old, fl.cur} {
		if t != nil {
			_ = t.f.Close()
		}
	}
	fl.old, fl.cur = nil, nil
}

// open opens the path as the current file, at the cursor's offset when the
// cursor names this very file. A missing file is not an error: step retries.
func (fl *follower) open(start *SourceCursor) error {
	f, err := os.Open(fl.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("follow %s: %w", fl.path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return fmt.Errorf("follow %s: %w", fl.path, err)
	}
	t := &tailFile{f: f, id: idOf(fi), opened: time.Now()}
	if start != nil && start.ID == t.id && start.Offset <= fi.Size() {
		if _, err := f.Seek(start.Offset, io.SeekStart); err != nil {
			_ = f.Close()
			return fmt.Errorf("follow %s: seek: %w", fl.path, err)
		}
		t.pos, t.sp.off, t.sp.lineNo = start.Offset, start.Offset, start.Line
	}
	fl.cur = t
	fl.remember(t.id)
	return nil
}

// step does one round: drain a renamed file, notice rotation or truncation,
// and read what is new.
func (fl *follower) step(emit emitFunc) error {
	if fl.cur == nil {
		return fl.open(nil)
	}
	fi, err := os.Stat(fl.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// Renamed away and not yet re-created: keep reading the open file.
		return fl.read(fl.cur, emit)
	case err != nil:
		return fmt.Errorf("follow %s: %w", fl.path, err)
	}
	if id := idOf(fi); id != fl.cur.id {
		// Rename + create: finish the old file first. A previous old file
		// still draining is finished for good now.
		if fl.old != nil {
			if err := fl.finishOld(emit); err != nil {
				return err
			}
		}
		prev := fl.cur
		if err := fl.read(prev, emit); err != nil {
			return err
		}
		fl.cur = nil
		if err := fl.open(nil); err != nil {
			return err
		}
		if fl.cur == nil { // vanished again between stat and open
			fl.cur = prev
			return nil
		}
		// Several rotations since the last look: the files rotated after
		// prev are read too, the newest of them drained like prev.
		fl.old = prev
		if err := fl.skipToNewest(prev, emit); err != nil {
			return err
		}
	}
	if fl.old != nil {
		// The writer switches files once: when the new file has data, every
		// late line is already in the old one, so a last drain gets them all.
		newHasData := false
		if nfi, err := fl.cur.f.Stat(); err == nil && nfi.Size() > 0 {
			newHasData = true
		}
		if newHasData {
			if err := fl.finishOld(emit); err != nil {
				return err
			}
		} else {
			// The new file stays unread until the old one is finished, so
			// lines come out in the order they were written.
			return fl.read(fl.old, emit)
		}
	}
	if err := fl.checkCopy(emit); err != nil {
		return err
	}
	return fl.read(fl.cur, emit)
}

func (fl *follower) remember(id FileID) {
	if fl.opened == nil || len(fl.opened) > 64 {
		fl.opened = map[FileID]bool{}
		if fl.cur != nil {
			fl.opened[fl.cur.id] = true
		}
	}
	fl.opened[id] = true
}

// newestRotated returns the identity and name of the newest rotated sibling.
func (fl *follower) newestRotated() (FileID, string) {
	for _, name := range rotatedNewestFirst(fl.path) {
		if fi, err := os.Stat(name); err == nil {
			return idOf(fi), name
		}
	}
	return FileID{}, ""
}

// checkCopy notices a file truncated by copytruncate before the follower
// read anything new from it: nothing before the read offset changed, yet
// the newest rotated sibling is a new copy, longer than the file now, that
// holds what was read. The rest is read from that copy and the file is
// read again from 0.
func (fl *follower) checkCopy(emit emitFunc) error {
	id, name := fl.newestRotated()
	if id == fl.newest {
		return nil
	}
	t := fl.cur
	if name == "" || fl.opened[id] {
		fl.newest = id // a rename, handled in step
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil //nolint:nilerr // gone again: nothing to catch up from
	}
	defer f.Close()
	fi, err := f.Stat()
	cfi, cerr := t.f.Stat()
	if err != nil || cerr != nil || idOf(fi) != id {
		return nil //nolint:nilerr // looked at again next time
	}
	if cfi.Size() >= fi.Size() {
		return nil // not truncated (yet): look again next time
	}
	fl.newest = id
	if fi.Size() < t.sp.off || t.sp.off == 0 && !fi.ModTime().After(t.opened) || t.sp.off > 0 && !sameBytesAt(f, t.sp.off, t.tail) {
		return nil // not a copy of what was read
	}
	if _, err := f.Seek(t.sp.off, io.SeekStart); err != nil {
		return fmt.Errorf("follow %s: %s: %w", fl.path, name, err)
	}
	if _, err := readLines(f, t.sp.off, t.sp.lineNo, emit); err != nil {
		return fmt.Errorf("follow %s: read the copy %s: %w", fl.path, name, err)
	}
	return fl.rewind(t)
}

// rewind starts t again at offset 0 after a truncation whose copy has been
// read; that copy is not looked at again.
func (fl *follower) rewind(t *tailFile) error {
	t.sp.reset()
	t.pos = 0
	t.tail = t.tail[:0]
	t.opened = time.Now()
	fl.newest, _ = fl.newestRotated()
	if _, err := t.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("follow %s: seek: %w", fl.path, err)
	}
	return nil
}

// skipToNewest handles rotations the follower slept through: the rotated
// files newer than prev (found by identity among the rotated siblings) are
// read in order; prev and all but the newest of them are finished, and the
// newest becomes the file drained until the current one has data.
func (fl *follower) skipToNewest(prev *tailFile, emit emitFunc) error {
	names := rotatedNewestFirst(fl.path)
	idx := -1
	for i, n := range names {
		if fi, err := os.Stat(n); err == nil && idOf(fi) == prev.id {
			idx = i
			break
		}
	}
	for i := idx - 1; i >= 0; i-- {
		f, err := os.Open(names[i])
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		if err != nil || idOf(fi) == fl.cur.id {
			_ = f.Close()
			continue
		}
		if err := fl.finishOld(emit); err != nil {
			_ = f.Close()
			return err
		}
		fl.old = &tailFile{f: f, id: idOf(fi), opened: time.Now()}
		fl.remember(fl.old.id)
		if err := fl.read(fl.old, emit); err != nil {
			return err
		}
	}
	return nil
}

func (fl *follower) finishOld(emit emitFunc) error {
	t := fl.old
	fl.old = nil
	defer t.f.Close()
	if err := fl.read(t, emit); err != nil {
		return err
	}
	return t.sp.finish(emit)
}

// truncated reports whether the file was truncated (copytruncate) since the
// last read: it is shorter than what was read, or the bytes just before the
// read offset changed.
func (fl *follower) truncated(t *tailFile) (bool, error) {
	fi, err := t.f.Stat()
	if err != nil {
		return false, fmt.Errorf("follow %s: %w", fl.path, err)
	}
	if fi.Size() < t.pos {
		return true, nil
	}
	if len(t.tail) == 0 {
		return false, nil
	}
	got := make([]byte, len(t.tail))
	if _, err := t.f.ReadAt(got, t.sp.off-int64(len(t.tail))); err != nil {
		return true, nil //nolint:nilerr // a short read means the file shrank
	}
	return !bytes.Equal(got, t.tail), nil
}

// catchUpFromCopy reads what the follower had not read yet from the copy
// logrotate made before truncating: the newest rotated sibling that is long
// enough and holds the same bytes before the read offset. Copies made by
// later truncations the follower slept through are newer siblings; they
// are read whole, up to the file itself if it was renamed since.
func (fl *follower) catchUpFromCopy(t *tailFile, emit emitFunc) error {
	names := rotatedNewestFirst(fl.path)
	for k, name := range names {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		fi, err := f.Stat()
		// With nothing read yet there are no bytes to compare: only a copy
		// made after the file was opened can hold its lost beginning.
		fresh := t.sp.off > 0 || fi.ModTime().After(t.opened)
		if err != nil || !fresh || idOf(fi) == t.id || fi.Size() < t.sp.off || !sameBytesAt(f, t.sp.off, t.tail) {
			_ = f.Close()
			continue
		}
		_, err = f.Seek(t.sp.off, io.SeekStart)
		if err == nil {
			_, err = readLines(f, t.sp.off, t.sp.lineNo, emit)
		}
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("follow %s: read the rotated copy %s: %w", fl.path, name, err)
		}
		for j := k - 1; j >= 0; j-- {
			f, err := os.Open(names[j])
			if err != nil {
				continue
			}
			fi, err := f.Stat()
			if err != nil || idOf(fi) == t.id || idOf(fi) == fl.curID() {
				_ = f.Close()
				break
			}
			_, err = readLines(f, 0, 0, emit)
			_ = f.Close()
			if err != nil {
				return fmt.Errorf("follow %s: read the rotated copy %s: %w", fl.path, names[j], err)
			}
		}
		return nil
	}
	return nil
}

func (fl *follower) curID() FileID {
	if fl.cur == nil {
		return FileID{}
	}
	return fl.cur.id
}

func sameBytesAt(f *os.File, end int64, want []byte) bool {
	if len(want) == 0 {
		return end == 0
	}
	got := make([]byte, len(want))
	if _, err := f.ReadAt(got, end-int64(len(want))); err != nil {
		return false
	}
	return bytes.Equal(got, want)
}

// read reads t from its position to the current end. A truncation noticed
// before or during the read restarts the file at offset 0 (after reading
// the rest of the old content from logrotate's copy).
func (fl *follower) read(t *tailFile, emit emitFunc) error {
	for {
		shrunk, err := fl.truncated(t)
		if err != nil {
			return err
		}
		if shrunk {
			if err := fl.restart(t, emit); err != nil {
				return err
			}
		}
		n, err := t.f.Read(fl.buf)
		if n > 0 {
			// A truncation between the check and the read yields bytes
			// from the middle of the new content: check again and drop
			// the chunk if the bytes before it changed.
			if len(t.tail) > 0 && !sameBytesAt(t.f, t.sp.off, t.tail) {
				if err := fl.restart(t, emit); err != nil {
					return err
				}
				continue
			}
			chunk := fl.buf[:n]
			start := t.pos
			t.pos += int64(n)
			if ferr := t.sp.feed(chunk, emit); ferr != nil {
				return ferr
			}
			t.rememberTail(chunk, start)
		}
		if err == io.EOF || n == 0 {
			return nil
		}
		if err != nil {
			return fmt.Errorf("follow %s: %w", fl.path, err)
		}
	}
}

// restart handles a truncated file: what was not read yet is read from the
// copy, and reading starts again at offset 0.
func (fl *follower) restart(t *tailFile, emit emitFunc) error {
	if err := fl.catchUpFromCopy(t, emit); err != nil {
		return err
	}
	return fl.rewind(t)
}

// rememberTail keeps the bytes just before sp.off that lie in chunk (which
// starts at file offset start). Any non-empty suffix will do: a truncated
// and re-grown file is unlikely to hold the same bytes at the same place.
func (t *tailFile) rememberTail(chunk []byte, start int64) {
	end := t.sp.off - start // sp.off relative to chunk
	if end <= 0 || end > int64(len(chunk)) {
		return // no line ended in this chunk: the old tail still applies
	}
	from := max(end-tailCheck, 0)
	t.tail = append(t.tail[:0], chunk[from:end]...)
}
