package tail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
)

// This file holds how the Follower finds the log's history: listing the
// rotated siblings, telling generations from copytruncate copies and
// compressed copies, and reading what it finds in order.

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
func (fl *Follower) scanSiblings() (ents []entry, stable bool) {
	names := Rotated(fl.path)
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
		id := IDOf(fi)
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
func (fl *Follower) scan() ([]entry, bool) {
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
	if (berr == nil) != (aerr == nil) || berr == nil && IDOf(before) != IDOf(after) {
		return nil, false
	}
	if aerr == nil {
		id := IDOf(after)
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

func (fl *Follower) gen(id FileID) *tailFile {
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
// Follower looked, read in order.
func (fl *Follower) discover(ents []entry, emit Emit) error {
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
func (fl *Follower) openEntry(e entry) (*os.File, error) {
	name := e.name
	for range 4 {
		if f, err := os.Open(name); err == nil {
			if fi, err := f.Stat(); err == nil && IDOf(fi) == e.id {
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
	br := bufio.NewReaderSize(f, ChunkSize)
	if !IsGzip(br) {
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
func (fl *Follower) newestGenListed(ents []entry) bool {
	return len(fl.gens) > 0 && inEntries(ents, fl.gens[len(fl.gens)-1].id)
}

// gzAnchors reports whether the oldest pending file is preceded in time by
// a compressed copy of a file read: the first pending entries that are
// compressed files already read anchor the rest.
func (fl *Follower) gzAnchors(pending []entry) bool {
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
func (fl *Follower) copyPending(name string, copy entry) bool {
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
func (fl *Follower) resolveCopies(t *tailFile, copies, ents []entry, emit Emit) error {
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
		if err := t.sp.Finish(emit); err != nil {
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
func (fl *Follower) copyAt(c entry, t *tailFile) (io.Reader, *os.File, bool) {
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
func (fl *Follower) readRest(r io.Reader, t *tailFile, emit Emit) error {
	for {
		n, err := r.Read(fl.buf)
		if n > 0 {
			if ferr := t.sp.Feed(fl.buf[:n], emit); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return t.sp.Finish(emit)
		}
		if err != nil {
			return err
		}
	}
}

// readWhole reads a file of the history (plain or compressed) whole.
func (fl *Follower) readWhole(e entry, emit Emit) error {
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
	if _, err := ReadLines(io.TeeReader(r, &limitWriter{&head, headSize}), 0, 0, emit); err != nil {
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

// addMissed takes a file rotated before the Follower looked: a compressed
// one is read whole now (unless it holds what was read), a plain one
// becomes a generation, read in turn and drained like the others.
func (fl *Follower) addMissed(e entry, emit Emit) error {
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
