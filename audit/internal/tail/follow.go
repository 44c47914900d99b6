package tail

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

// A Follower reads the lines appended to a log file as they are written,
// across logrotate's rotations, however quickly they follow each other.
//
// Every file the log has been (a generation: the file at the path, renamed
// away by rename+create, or a copy made by copytruncate) is tracked by
// identity and kept open until it is drained, because an open descriptor
// survives rename and unlink. The rotated siblings (NAME.1, NAME.2.gz,
// NAME-DATE, ...) form the log's history in the order they were rotated;
// each round the Follower lists them with the file at the path, oldest
// first, and reads any file it has not seen in that order:
//
//   - rename + create: a renamed generation stays open and is read until a
//     newer generation holds data (the writer moves to the new file once,
//     so every late line is in the old one by then); generations rotated
//     away before the Follower looked (back-to-back rotations, rename
//     chains .1 -> .2) are found among the siblings by identity and read
//     in order, whole;
//   - copytruncate: a file shorter than what was read, or whose bytes just
//     before the read offset changed, was truncated; the unread rest is
//     read from the copy (the sibling rotated just before the file that
//     holds those same bytes), then every later copy whole, then the file
//     again from offset 0;
//   - compressed siblings (.gz) that hold no content the Follower read are
//     decompressed and read whole; those that do are skipped.
//
// Guarantee: no line is lost or read twice as long as every rotated file
// still exists (plain or compressed) when the Follower next looks. When a
// generation may have been deleted unread, or the copy holding a truncated
// file's unread tail is gone, the Follower records a Lost ("rotation")
// instead of staying silent. Lines written in copytruncate's own window,
// after the copy and before the truncation, are in neither file: that
// loss is logrotate's and cannot be seen (use rename+create).
//
// It wakes on fsnotify events for the file's directory and, as a fallback
// (network filesystems, inotify limits), on a poll interval.
type Follower struct {
	path  string
	poll  time.Duration
	watch bool // wake on fsnotify events as well as the poll interval
	// gens are the open generations, oldest first; the last is the newest
	// file seen at the path. All but the last are drained until a newer
	// one holds data.
	gens []*tailFile
	// known are the identities whose content is read or was there before
	// following started: files the Follower need not read again.
	known map[FileID]bool
	// heads are the first bytes of files read, to recognise their
	// compressed copies.
	heads  [][]byte
	losses []string
	buf    []byte
	// started is false until the path was first opened.
	started bool
	stopped Position
}

// tailFile is one open generation being read.
type tailFile struct {
	f   *os.File
	id  FileID
	sp  Splitter
	pos int64 // file offset of the next read
	// tail holds the bytes just before pos, to notice a copytruncate that
	// was followed by enough new writes to hide the shrink.
	tail []byte
	cut  bool // seen truncated before the last listing
}

const (
	tailCheck = 64
	headSize  = 256
	maxHeads  = 64
)

// adviceRotation is what to change after a loss across rotations.
const adviceRotation = "a rotated log file was removed or compressed before it could be read, or logrotate's copytruncate lost its copy: keep more rotations (rotate N, delaycompress) and prefer rename+create to copytruncate"

// Position is a place in a log file: its identity, and the offset and line
// number just past the last line read.
type Position struct {
	ID     FileID
	Offset int64
	Line   int
}

// NewFollower returns a Follower of path, which looks for changes at least
// every poll (250ms when 0).
func NewFollower(path string, poll time.Duration) *Follower {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	return &Follower{path: path, poll: poll, watch: true, buf: make([]byte, ChunkSize), known: map[FileID]bool{}}
}

// Stopped returns where the Follower stood when Run returned: the oldest
// generation not yet drained (zero when no file was open).
func (fl *Follower) Stopped() Position {
	return fl.stopped
}

// Losses describes the possible losses noticed across rotations, one
// sentence each, with what to change so that they do not happen.
func (fl *Follower) Losses() []string {
	return fl.losses
}

func (fl *Follower) position() Position {
	if len(fl.gens) == 0 {
		return Position{}
	}
	t := fl.gens[0]
	return Position{ID: t.id, Offset: t.sp.off, Line: t.sp.lineNo}
}

// Run follows the file until ctx is done, emitting every line. If start
// names the file's current identity, reading starts at its offset; a missing
// file is waited for. A Follower runs once.
func (fl *Follower) Run(ctx context.Context, start *Position, emit Emit) error {
	defer fl.close()
	defer func() { fl.stopped = fl.position() }()
	var events <-chan fsnotify.Event
	var errs <-chan error
	if fl.watch {
		if w, err := fsnotify.NewWatcher(); err == nil {
			defer w.Close()
			if err := w.Add(filepath.Dir(fl.path)); err == nil {
				events, errs = w.Events, w.Errors
			}
		}
	}
	tick := time.NewTicker(fl.poll)
	defer tick.Stop()

	if err := fl.begin(start); err != nil {
		return err
	}
	list := true
	for {
		if err := fl.step(emit, list); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case ev := <-events:
			// Writes alone (to this log or another in the directory)
			// need no listing; creates, renames and removals do.
			list = ev.Op&^fsnotify.Write != 0
		case <-errs:
			list = true
		case <-tick.C:
			list = true
		}
	}
}

// begin takes what is rotated already as history, not to be read, and
// opens the file.
func (fl *Follower) begin(start *Position) error {
	ents, _ := fl.scanSiblings()
	for _, e := range ents {
		fl.known[e.id] = true
	}
	return fl.open(start)
}

func (fl *Follower) close() {
	for _, t := range fl.gens {
		_ = t.f.Close()
	}
	fl.gens = nil
}

// open opens the path as the first generation, at the cursor's offset when
// the cursor names this very file. A missing file is not an error: step
// retries.
func (fl *Follower) open(start *Position) error {
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
	t := &tailFile{f: f, id: IDOf(fi)}
	if start != nil && start.ID == t.id && start.Offset <= fi.Size() {
		t.pos, t.sp.off, t.sp.lineNo = start.Offset, start.Offset, start.Line
		t.tail = tailBefore(f, t.pos)
	}
	fl.gens = []*tailFile{t}
	fl.known[t.id] = true
	fl.started = true
	return nil
}

// tailBefore reads up to tailCheck bytes before off.
func tailBefore(f *os.File, off int64) []byte {
	n := min(off, tailCheck)
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off-n); err != nil {
		return nil
	}
	return b
}

// step does one round: look for new generations and copies, then drain.
// A truncation noticed while reading sends it back to looking (a few times
// at most; the next round goes on). Without list, the directory is listed
// only when a file was truncated or the path is another file.
func (fl *Follower) step(emit Emit, list bool) error {
	if !fl.started {
		return fl.open(nil)
	}
	for range 3 {
		// Truncation is noticed before listing: logrotate makes the copy
		// before it truncates, so the listing holds the copy.
		for _, g := range fl.gens {
			cut, err := fl.truncated(g)
			if err != nil {
				return err
			}
			g.cut = cut
			list = list || cut
		}
		if !list {
			fi, err := os.Stat(fl.path)
			list = err != nil || len(fl.gens) == 0 || IDOf(fi) != fl.gens[len(fl.gens)-1].id
		}
		if list { // else nothing rotated: go on reading
			if ents, ok := fl.scan(); ok {
				if err := fl.discover(ents, emit); err != nil {
					return err
				}
			}
		}
		again, err := fl.drain(emit)
		if err != nil || !again {
			return err
		}
		list = true
	}
	return nil
}

// finishBefore reads and ends every generation before t (all of them when
// t is nil): newer content was written, so they receive no more lines.
func (fl *Follower) finishBefore(t *tailFile, emit Emit) error {
	for len(fl.gens) > 0 && fl.gens[0] != t {
		if t == nil && len(fl.gens) == 1 {
			// The newest generation too: a compressed file rotated after
			// it holds newer lines.
			return fl.finish(fl.gens[0], emit)
		}
		if err := fl.finish(fl.gens[0], emit); err != nil {
			return err
		}
	}
	return nil
}

// finish reads g to its end, ends its last line and closes it.
func (fl *Follower) finish(g *tailFile, emit Emit) error {
	if _, err := fl.read(g, emit); err != nil {
		return err
	}
	if err := g.sp.Finish(emit); err != nil {
		return err
	}
	fl.addHead(g.f)
	_ = g.f.Close()
	for i, x := range fl.gens {
		if x == g {
			fl.gens = append(fl.gens[:i], fl.gens[i+1:]...)
			break
		}
	}
	return nil
}

// drain reads the generations in order: each is read to its end, and
// finished when a newer one holds data. again reports a truncation noticed
// while reading: look for the copy before going on.
func (fl *Follower) drain(emit Emit) (again bool, err error) {
	for len(fl.gens) > 0 {
		g := fl.gens[0]
		final := len(fl.gens) > 1 && fl.newerHasData()
		if again, err := fl.read(g, emit); err != nil || again {
			return again, err
		}
		if !final {
			return false, nil
		}
		if err := g.sp.Finish(emit); err != nil {
			return false, err
		}
		fl.addHead(g.f)
		_ = g.f.Close()
		fl.gens = fl.gens[1:]
	}
	return false, nil
}

// newerHasData reports whether a generation after the first holds data.
func (fl *Follower) newerHasData() bool {
	for _, t := range fl.gens[1:] {
		if fi, err := t.f.Stat(); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

// rewind starts t again at offset 0 after a truncation whose copies have
// been read.
func (fl *Follower) rewind(t *tailFile) error {
	t.sp.reset()
	t.pos = 0
	t.tail = t.tail[:0]
	t.cut = false
	return nil
}

func (fl *Follower) loss(what string) {
	fl.losses = append(fl.losses, what+"; "+adviceRotation)
}

// addHead remembers the first bytes of f, to recognise its compressed copy.
func (fl *Follower) addHead(f *os.File) {
	b := make([]byte, headSize)
	n, _ := f.ReadAt(b, 0)
	fl.rememberHead(b[:n])
}

func (fl *Follower) rememberHead(b []byte) {
	if len(b) == 0 {
		return
	}
	if len(fl.heads) >= maxHeads {
		fl.heads = fl.heads[1:]
	}
	fl.heads = append(fl.heads, bytes.Clone(b))
}

// gzKnown reports whether a compressed sibling holds a file already read:
// it is empty or starts like one (the live generations included).
func (fl *Follower) gzKnown(e entry) bool {
	if fl.known[e.id] {
		return true
	}
	f, err := fl.openEntry(e)
	if err != nil {
		return true //nolint:nilerr // gone: nothing to read from it either
	}
	defer f.Close()
	r, err := logReader(f)
	if err != nil {
		return true //nolint:nilerr // not gzip after all: no text to compare
	}
	head := make([]byte, headSize)
	n, _ := io.ReadFull(r, head)
	head = head[:n]
	if n == 0 {
		return true
	}
	heads := fl.heads
	for _, t := range fl.gens {
		b := make([]byte, headSize)
		m, _ := t.f.ReadAt(b, 0)
		heads = append(heads, b[:m])
	}
	for _, h := range heads {
		m := min(len(h), len(head))
		if m > 0 && bytes.Equal(h[:m], head[:m]) {
			return true
		}
	}
	return false
}

// truncated reports whether t was truncated (copytruncate) since the last
// read: it is shorter than what was read, or the bytes just before the
// read offset changed.
func (fl *Follower) truncated(t *tailFile) (bool, error) {
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
	return !sameBytesAt(t.f, t.pos, t.tail), nil
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

// read reads t from its position to the current end. again reports a
// truncation noticed before or during the read: nothing of the new
// content was taken, the caller looks for the copy first.
func (fl *Follower) read(t *tailFile, emit Emit) (again bool, err error) {
	for {
		cut, err := fl.truncated(t)
		if err != nil || cut {
			return cut, err
		}
		n, err := t.f.ReadAt(fl.buf, t.pos)
		if n > 0 && t.pos == 0 && fl.unreadCopy(t) {
			return true, nil
		}
		if n > 0 {
			// A truncation between the check and the read yields bytes
			// of the new content: check again and drop the chunk.
			if len(t.tail) > 0 && !sameBytesAt(t.f, t.pos, t.tail) {
				return true, nil
			}
			chunk := fl.buf[:n]
			t.pos += int64(n)
			if ferr := t.sp.Feed(chunk, emit); ferr != nil {
				return false, ferr
			}
			t.rememberTail(chunk)
		}
		if err == io.EOF || n == 0 {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("follow %s: %w", fl.path, err)
		}
	}
}

// unreadCopy reports, for the newest generation about to be read from
// offset 0, whether a copy with other content was made since the last
// listing: the file was truncated before this read (which holds what came
// after), so the copy must be read first. A copy made after the read
// starts with what was read.
func (fl *Follower) unreadCopy(t *tailFile) bool {
	if fl.gens[len(fl.gens)-1] != t {
		return false // renamed away: no longer truncated
	}
	ents, stable := fl.scanSiblings()
	if !stable {
		return true // a rotation under way: look again first
	}
	for i := len(ents) - 1; i >= 0; i-- {
		e := ents[i]
		if fl.known[e.id] {
			break
		}
		if e.gz || e.size == 0 {
			continue
		}
		c, err := fl.openEntry(e)
		if err != nil {
			continue
		}
		pending := prefixPending(t.f, c)
		_ = c.Close()
		if !pending {
			return true
		}
	}
	return false
}

// rememberTail keeps the last bytes before pos, chunk being the bytes just
// read. A truncated and re-grown file is unlikely to hold the same bytes
// at the same place.
func (t *tailFile) rememberTail(chunk []byte) {
	if len(chunk) >= tailCheck {
		t.tail = append(t.tail[:0], chunk[len(chunk)-tailCheck:]...)
		return
	}
	t.tail = append(t.tail, chunk...)
	if over := len(t.tail) - tailCheck; over > 0 {
		t.tail = append(t.tail[:0], t.tail[over:]...)
	}
}
