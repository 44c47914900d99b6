package audit

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// A follower reads the lines appended to a log file as they are written,
// across logrotate's rotations, however quickly they follow each other.
//
// Every file the log has been (a generation: the file at the path, renamed
// away by rename+create, or a copy made by copytruncate) is tracked by
// identity and kept open until it is drained, because an open descriptor
// survives rename and unlink. The rotated siblings (NAME.1, NAME.2.gz,
// NAME-DATE, ...) form the log's history in the order they were rotated;
// each round the follower lists them with the file at the path, oldest
// first, and reads any file it has not seen in that order:
//
//   - rename + create: a renamed generation stays open and is read until a
//     newer generation holds data (the writer moves to the new file once,
//     so every late line is in the old one by then); generations rotated
//     away before the follower looked (back-to-back rotations, rename
//     chains .1 -> .2) are found among the siblings by identity and read
//     in order, whole;
//   - copytruncate: a file shorter than what was read, or whose bytes just
//     before the read offset changed, was truncated; the unread rest is
//     read from the copy (the sibling rotated just before the file that
//     holds those same bytes), then every later copy whole, then the file
//     again from offset 0;
//   - compressed siblings (.gz) that hold no content the follower read are
//     decompressed and read whole; those that do are skipped.
//
// Guarantee: no line is lost or read twice as long as every rotated file
// still exists (plain or compressed) when the follower next looks. When a
// generation may have been deleted unread, or the copy holding a truncated
// file's unread tail is gone, the follower records a Lost ("rotation")
// instead of staying silent. Lines written in copytruncate's own window,
// after the copy and before the truncation, are in neither file: that
// loss is logrotate's and cannot be seen (use rename+create).
//
// It wakes on fsnotify events for the file's directory and, as a fallback
// (network filesystems, inotify limits), on a poll interval.
type follower struct {
	path  string
	poll  time.Duration
	watch bool // wake on fsnotify events as well as the poll interval
	// gens are the open generations, oldest first; the last is the newest
	// file seen at the path. All but the last are drained until a newer
	// one holds data.
	gens []*tailFile
	// known are the identities whose content is read or was there before
	// following started: files the follower need not read again.
	known map[FileID]bool
	// heads are the first bytes of files read, to recognise their
	// compressed copies.
	heads  [][]byte
	losses []Lost
	buf    []byte
	// started is false until the path was first opened.
	started bool
	stopped struct {
		id   FileID
		off  int64
		line int
	}
}

// tailFile is one open generation being read.
type tailFile struct {
	f   *os.File
	id  FileID
	sp  splitter
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

// adviceRotation is the advice for a loss across rotations.
const adviceRotation = "a rotated log file was removed or compressed before it could be read, or logrotate's copytruncate lost its copy: keep more rotations (rotate N, delaycompress) and prefer rename+create to copytruncate"

func newFollower(path string, poll time.Duration) *follower {
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	return &follower{path: path, poll: poll, watch: true, buf: make([]byte, chunkSize), known: map[FileID]bool{}}
}

// lastPosition returns where the follower stood when it stopped: the
// oldest generation not yet drained.
func (fl *follower) lastPosition() (FileID, int64, int) {
	return fl.stopped.id, fl.stopped.off, fl.stopped.line
}

// lost returns the possible losses noticed across rotations.
func (fl *follower) lost() []Lost {
	return fl.losses
}

func (fl *follower) position() (FileID, int64, int) {
	if len(fl.gens) == 0 {
		return FileID{}, 0, 0
	}
	t := fl.gens[0]
	return t.id, t.sp.off, t.sp.lineNo
}

// run follows the file until ctx is done, emitting every line. If start
// names the file's current identity, reading starts at its offset; a missing
// file is waited for.
func (fl *follower) run(ctx context.Context, start *SourceCursor, emit emitFunc) error {
	defer fl.close()
	defer func() { fl.stopped.id, fl.stopped.off, fl.stopped.line = fl.position() }()
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
func (fl *follower) begin(start *SourceCursor) error {
	ents, _ := fl.scanSiblings()
	for _, e := range ents {
		fl.known[e.id] = true
	}
	return fl.open(start)
}

func (fl *follower) close() {
	for _, t := range fl.gens {
		_ = t.f.Close()
	}
	fl.gens = nil
}

// open opens the path as the first generation, at the cursor's offset when
// the cursor names this very file. A missing file is not an error: step
// retries.
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
	t := &tailFile{f: f, id: idOf(fi)}
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
func (fl *follower) step(emit emitFunc, list bool) error {
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
			list = err != nil || len(fl.gens) == 0 || idOf(fi) != fl.gens[len(fl.gens)-1].id
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

// entry is one file of the log's history: a rotated sibling or the path.
type entry struct {
	name string
	id   FileID
	size int64
	gz   bool
}

// scanSiblings lists the rotated siblings, oldest first. stable is false
// when a listed name was gone by the time it was looked at: a rotation
// was under way, and a file may be missing from the list.
func (fl *follower) scanSiblings() (ents []entry, stable bool) {
	names := rotatedNewestFirst(fl.path)
	out := make([]entry, 0, len(names))
	seen := map[FileID]bool{}
	stable = true
	for i := len(names) - 1; i >= 0; i-- {
		fi, err := os.Stat(names[i])
		if err != nil {
			if _, lerr := os.Lstat(names[i]); errors.Is(lerr, fs.ErrNotExist) {
				stable = false
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		id := idOf(fi)
		if seen[id] { // moved by a rotation during the listing
			stable = false
			continue
		}
		seen[id] = true
		out = append(out, entry{name: names[i], id: id, size: fi.Size(), gz: strings.HasSuffix(names[i], ".gz")})
	}
	return out, stable
}

// scan lists the log's history oldest first, the file at the path last
// (absent while renamed away and not yet re-created). ok is false when the
// path changed during the listing: the order may be wrong, look again.
func (fl *follower) scan() ([]entry, bool) {
	before, berr := os.Stat(fl.path)
	// A rotation during the listing may have hidden a file (moved past
	// the names not yet looked at): two listings must agree, neither
	// seeing a name vanish.
	ents, stable := fl.scanSiblings()
	again, stable2 := fl.scanSiblings()
	if !stable || !stable2 || !sameIDs(ents, again) {
		return nil, false
	}
	after, aerr := os.Stat(fl.path)
	if (berr == nil) != (aerr == nil) || berr == nil && idOf(before) != idOf(after) {
		return nil, false
	}
	if aerr == nil {
		id := idOf(after)
		for i, e := range ents {
			if e.id == id { // renamed and back? treat the path as the newest
				ents = append(ents[:i], ents[i+1:]...)
				break
			}
		}
		ents = append(ents, entry{name: fl.path, id: id, size: after.Size()})
	}
	return ents, true
}

func sameIDs(a, b []entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].id != b[i].id {
			return false
		}
	}
	return true
}

func (fl *follower) gen(id FileID) *tailFile {
	for _, t := range fl.gens {
		if t.id == id {
			return t
		}
	}
	return nil
}

// discover walks the history oldest first. Unknown files just before a
// generation being read are its copytruncate copies; unknown files after
// everything known are generations (or their copies) rotated before the
// follower looked, read in order.
func (fl *follower) discover(ents []entry, emit emitFunc) error {
	// Forget files no longer listed: an inode number is reused once its
	// file is deleted, and a new copy must not pass for a file read.
	if len(fl.known) > len(ents)+len(fl.gens) {
		keep := make(map[FileID]bool, len(ents)+len(fl.gens))
		for _, e := range ents {
			if fl.known[e.id] {
				keep[e.id] = true
			}
		}
		for _, g := range fl.gens {
			keep[g.id] = true
		}
		fl.known = keep
	}
	var pending []entry
	anchored := false // a known file precedes pending: no gap before them
	for _, e := range ents {
		if t := fl.gen(e.id); t != nil {
			if err := fl.resolveCopies(t, pending, ents, emit); err != nil {
				return err
			}
			pending, anchored = nil, true
			continue
		}
		if fl.known[e.id] {
			pending, anchored = nil, true
			continue
		}
		pending = append(pending, e)
	}
	// A tracked generation gone from the listing (deleted or compressed)
	// may have been truncated with its copies gone too.
	for _, t := range fl.gens {
		if !inEntries(ents, t.id) {
			if t.cut {
				fl.loss(fmt.Sprintf("%s was truncated and its copy is gone", fl.path))
				if err := fl.rewind(t); err != nil {
					return err
				}
			}
		}
	}
	if len(pending) == 0 {
		return nil
	}
	var later *entry // a copy of the new file, resolved as its copy later
	if last := pending[len(pending)-1]; last.name == fl.path && len(pending) > 1 {
		// A copy of the new file still being made (or not yet followed by
		// the truncation): the new file is read from 0 meanwhile, the copy
		// resolved once the file is seen truncated.
		if prev := pending[len(pending)-2]; !prev.gz && fl.copyPending(last.name, prev) {
			later = &pending[len(pending)-2]
		}
	}
	if !anchored || !fl.newestGenListed(ents) {
		// The files between the newest generation read and the first
		// unknown one may have been deleted unread.
		if !fl.gzAnchors(pending) {
			fl.loss(fmt.Sprintf("%s was rotated more often than it could be followed: files rotated in between may be gone", fl.path))
		}
	}
	for i := range pending {
		if later == &pending[i] {
			continue
		}
		if err := fl.addMissed(pending[i], emit); err != nil {
			return err
		}
	}
	return nil
}

// openEntry opens a file of the history by identity: a rotation since
// the listing may have moved it to another name (NAME.1 -> NAME.2), so it
// is looked for among the siblings again. fs.ErrNotExist when it is gone.
func (fl *follower) openEntry(e entry) (*os.File, error) {
	name := e.name
	for range 4 {
		if f, err := os.Open(name); err == nil {
			if fi, err := f.Stat(); err == nil && idOf(fi) == e.id {
				return f, nil
			}
			_ = f.Close()
		}
		name = ""
		ents, _ := fl.scanSiblings()
		for _, s := range ents {
			if s.id == e.id {
				name = s.name
				break
			}
		}
		if name == "" {
			break
		}
	}
	return nil, fmt.Errorf("%s: %w", e.name, fs.ErrNotExist)
}

// logReader reads f's text, decompressing gzip (by content, not name).
func logReader(f *os.File) (io.Reader, error) {
	br := bufio.NewReaderSize(f, chunkSize)
	if !isGzip(br) {
		return br, nil
	}
	return gzip.NewReader(br)
}

func inEntries(ents []entry, id FileID) bool {
	for _, e := range ents {
		if e.id == id {
			return true
		}
	}
	return false
}

// newestGenListed reports whether the newest generation being read is
// still among the files listed (then nothing newer can have been deleted).
func (fl *follower) newestGenListed(ents []entry) bool {
	return len(fl.gens) > 0 && inEntries(ents, fl.gens[len(fl.gens)-1].id)
}

// gzAnchors reports whether the oldest pending file is preceded in time by
// a compressed copy of a file read: the first pending entries that are
// compressed files already read anchor the rest.
func (fl *follower) gzAnchors(pending []entry) bool {
	for _, e := range pending {
		if !e.gz {
			return false
		}
		if fl.gzKnown(e) {
			return true
		}
	}
	return false
}

// copyPending reports whether copy looks like logrotate's copy of name
// still being made (or not yet followed by the truncation): the file is at
// least as long and starts with the same bytes.
func (fl *follower) copyPending(name string, copy entry) bool {
	f, err := os.Open(name)
	if err != nil {
		return false
	}
	defer f.Close()
	c, err := fl.openEntry(copy)
	if err != nil {
		return false
	}
	defer c.Close()
	return prefixPending(f, c)
}

// prefixPending reports whether f is at least as long as c and starts with
// c's first bytes: c is a copy of f not yet followed by the truncation.
func prefixPending(f, c *os.File) bool {
	fi, err1 := f.Stat()
	ci, err2 := c.Stat()
	if err1 != nil || err2 != nil || fi.Size() < ci.Size() {
		return false
	}
	if ci.Size() == 0 {
		// Just created, or a copy of an empty file: the same unless the
		// file has data.
		return fi.Size() > 0
	}
	n := min(ci.Size(), headSize)
	a, b := make([]byte, n), make([]byte, n)
	if _, err := f.ReadAt(a, 0); err != nil {
		return false
	}
	if _, err := c.ReadAt(b, 0); err != nil {
		return false
	}
	return bytes.Equal(a, b)
}

// resolveCopies handles the unknown files rotated just before t: copies
// of t made by copytruncate. They are read only once t is seen truncated
// (before that a copy may still be being made).
func (fl *follower) resolveCopies(t *tailFile, copies, ents []entry, emit emitFunc) error {
	cut := t.cut
	var plain []entry
	for _, c := range copies {
		if c.gz && fl.gzKnown(c) {
			fl.known[c.id] = true
			continue
		}
		plain = append(plain, c)
	}
	atPath := len(ents) > 0 && ents[len(ents)-1].name == fl.path && ents[len(ents)-1].id == t.id
	if t.pos == 0 {
		// Nothing read from t: every copy holds unread lines, except the
		// newest when it may still be being made (only the file at the
		// path is copied; an older copy is complete).
		n := len(plain)
		if n > 0 && atPath && !plain[n-1].gz {
			if c, err := fl.openEntry(plain[n-1]); err == nil {
				pending := prefixPending(t.f, c)
				_ = c.Close()
				if pending {
					n--
				}
			}
		}
		full := false
		for _, c := range plain[:n] {
			full = full || c.size > 0
		}
		if full {
			// Lines were written after those of the older generations:
			// those are complete.
			if err := fl.finishBefore(t, emit); err != nil {
				return err
			}
		}
		for _, c := range plain[:n] {
			if err := fl.readWhole(c, emit); err != nil {
				return err
			}
		}
		return nil
	}
	if !cut && !atPath {
		// Renamed before the listing, so truncated (if at all) before it
		// too: look again, the copy is listed.
		var err error
		if cut, err = fl.truncated(t); err != nil {
			return err
		}
		if !cut {
			// Renamed and never truncated since it was read: the copies
			// hold what was read before.
			for _, c := range plain {
				fl.known[c.id] = true
			}
			return nil
		}
	}
	if !cut {
		return nil // a copy not yet followed by the truncation
	}
	if err := fl.finishBefore(t, emit); err != nil {
		return err
	}
	// The first copy holding the bytes just before t's offset has the
	// unread rest; later copies were made by later truncations.
	first := -1
	for i, c := range plain {
		r, f, ok := fl.copyAt(c, t)
		if !ok {
			continue
		}
		first = i
		err := fl.readRest(r, t, emit)
		_ = f.Close()
		if err != nil {
			return fmt.Errorf("follow %s: read the copy %s: %w", fl.path, c.name, err)
		}
		fl.known[c.id] = true
		break
	}
	if first < 0 {
		fl.loss(fmt.Sprintf("%s was truncated (copytruncate) before it was read to its end and the copy holding the rest is gone", fl.path))
		if err := t.sp.finish(emit); err != nil {
			return err
		}
	}
	for _, c := range plain[:max(first, 0)] {
		fl.known[c.id] = true // copies of what was read before
	}
	for _, c := range plain[first+1:] {
		if err := fl.readWhole(c, emit); err != nil {
			return err
		}
	}
	return fl.rewind(t)
}

// copyAt opens c, a copy of t (plain or compressed), at t's offset when
// it holds the bytes t read just before it.
func (fl *follower) copyAt(c entry, t *tailFile) (io.Reader, *os.File, bool) {
	if !c.gz && c.size < t.pos {
		return nil, nil, false
	}
	f, err := fl.openEntry(c)
	if err != nil {
		return nil, nil, false
	}
	if !c.gz {
		if !sameBytesAt(f, t.pos, t.tail) {
			_ = f.Close()
			return nil, nil, false
		}
		fl.addHead(f)
		return io.NewSectionReader(f, t.pos, 1<<62), f, true
	}
	r, err := logReader(f)
	if err == nil {
		_, err = io.CopyN(io.Discard, r, t.pos-int64(len(t.tail)))
	}
	got := make([]byte, len(t.tail))
	if err == nil {
		_, err = io.ReadFull(r, got)
	}
	if err != nil || !bytes.Equal(got, t.tail) {
		_ = f.Close()
		return nil, nil, false
	}
	return r, f, true
}

// readRest reads a copy of t from t's offset to its end, continuing t's
// lines, and ends the last one.
func (fl *follower) readRest(r io.Reader, t *tailFile, emit emitFunc) error {
	for {
		n, err := r.Read(fl.buf)
		if n > 0 {
			if ferr := t.sp.feed(fl.buf[:n], emit); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return t.sp.finish(emit)
		}
		if err != nil {
			return err
		}
	}
}

// readWhole reads a file of the history (plain or compressed) whole.
func (fl *follower) readWhole(e entry, emit emitFunc) error {
	f, err := fl.openEntry(e)
	if err != nil {
		fl.loss(fmt.Sprintf("%s: rotated file %s vanished before it was read", fl.path, e.name))
		return nil //nolint:nilerr // reported as a loss
	}
	defer f.Close()
	r, err := logReader(f)
	if err != nil {
		return fmt.Errorf("follow %s: %s: %w", fl.path, e.name, err)
	}
	fl.known[e.id] = true
	var head bytes.Buffer
	if _, err := readLines(io.TeeReader(r, &limitWriter{&head, headSize}), 0, 0, emit); err != nil {
		return fmt.Errorf("follow %s: read %s: %w", fl.path, e.name, err)
	}
	fl.rememberHead(head.Bytes())
	return nil
}

// limitWriter keeps the first n bytes written to it.
type limitWriter struct {
	b *bytes.Buffer
	n int
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if room := w.n - w.b.Len(); room > 0 {
		w.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// addMissed takes a file rotated before the follower looked: a compressed
// one is read whole now (unless it holds what was read), a plain one
// becomes a generation, read in turn and drained like the others.
func (fl *follower) addMissed(e entry, emit emitFunc) error {
	if e.gz {
		if fl.gzKnown(e) {
			fl.known[e.id] = true
			return nil
		}
		if err := fl.finishBefore(nil, emit); err != nil {
			return err
		}
		return fl.readWhole(e, emit)
	}
	f, err := fl.openEntry(e)
	if err != nil {
		fl.loss(fmt.Sprintf("%s: rotated file %s vanished before it was read", fl.path, e.name))
		return nil //nolint:nilerr // reported as a loss
	}
	fl.gens = append(fl.gens, &tailFile{f: f, id: e.id})
	fl.known[e.id] = true
	return nil
}

// finishBefore reads and ends every generation before t (all of them when
// t is nil): newer content was written, so they receive no more lines.
func (fl *follower) finishBefore(t *tailFile, emit emitFunc) error {
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
func (fl *follower) finish(g *tailFile, emit emitFunc) error {
	if _, err := fl.read(g, emit); err != nil {
		return err
	}
	if err := g.sp.finish(emit); err != nil {
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
func (fl *follower) drain(emit emitFunc) (again bool, err error) {
	for len(fl.gens) > 0 {
		g := fl.gens[0]
		final := len(fl.gens) > 1 && fl.newerHasData()
		if again, err := fl.read(g, emit); err != nil || again {
			return again, err
		}
		if !final {
			return false, nil
		}
		if err := g.sp.finish(emit); err != nil {
			return false, err
		}
		fl.addHead(g.f)
		_ = g.f.Close()
		fl.gens = fl.gens[1:]
	}
	return false, nil
}

// newerHasData reports whether a generation after the first holds data.
func (fl *follower) newerHasData() bool {
	for _, t := range fl.gens[1:] {
		if fi, err := t.f.Stat(); err == nil && fi.Size() > 0 {
			return true
		}
	}
	return false
}

// rewind starts t again at offset 0 after a truncation whose copies have
// been read.
func (fl *follower) rewind(t *tailFile) error {
	t.sp.reset()
	t.pos = 0
	t.tail = t.tail[:0]
	t.cut = false
	return nil
}

func (fl *follower) loss(what string) {
	fl.losses = append(fl.losses, Lost{Source: fl.path, Kind: "rotation", Advice: what + "; " + adviceRotation})
}

// addHead remembers the first bytes of f, to recognise its compressed copy.
func (fl *follower) addHead(f *os.File) {
	b := make([]byte, headSize)
	n, _ := f.ReadAt(b, 0)
	fl.rememberHead(b[:n])
}

func (fl *follower) rememberHead(b []byte) {
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
func (fl *follower) gzKnown(e entry) bool {
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
func (fl *follower) read(t *tailFile, emit emitFunc) (again bool, err error) {
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
			if ferr := t.sp.feed(chunk, emit); ferr != nil {
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
func (fl *follower) unreadCopy(t *tailFile) bool {
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
