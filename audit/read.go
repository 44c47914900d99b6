package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/aa-flow/aa-flow/audit/source"
)

// Cursor records where a Read stopped in each of its sources, so the next
// Read with it returns only what came after (see source.Cursor).
type Cursor = source.Cursor

// SourceCursor is the position in one source (see source.Position).
type SourceCursor = source.Position

// FileID is a file's identity: it survives renames, and a file created in
// its place has another.
type FileID = source.FileID

// ReadOptions say which logs Read reads and which records it returns.
type ReadOptions struct {
	// From lists files to read ("-" is stdin; gzip is decompressed
	// transparently). Empty: detect the host's source (see source.Detect).
	From []string
	// Since drops records older than this, except, with a Window, those
	// after its opening record. Rotated files (NAME.1, NAME.2.gz, ...) are
	// read, oldest first, only as far back as needed.
	Since time.Time
	// Window, when set, reads one window that a record opens (see
	// Window); Since is then how far back its opening record is looked for.
	Window *Window
	// Follow keeps reading new records, across log rotation, until ctx is
	// done.
	Follow bool
	// Cursor resumes after what a previous Read returned (nil: from the
	// start, or from Since).
	Cursor *Cursor
	// Profile keeps only records for this profile, its hats and children
	// (NAME//...); "" keeps all.
	Profile string
	// Seccomp returns the kernel's SECCOMP records (TypeSeccomp) instead
	// of AppArmor's; Profile does not apply to them.
	Seccomp bool
	// Log receives notes such as which source is read (stderr); nil: none.
	Log io.Writer
	// Progress, when set, is told how far the read got every
	// ProgressEvery lines, and once more at the end.
	Progress func(Progress)

	// Paths for tests and unusual hosts; empty means the default.
	AuditLog    string        // /var/log/audit/audit.log
	AuditdPid   []string      // /run/auditd.pid, /var/run/auditd.pid
	SyslogFiles []string      // /var/log/kern.log, /var/log/syslog, /var/log/messages
	Kmsg        string        // /dev/kmsg
	Journalctl  string        // journalctl
	JournalFile string        // passed to journalctl --file; also selects journald
	JournalDir  string        // /run/systemd/journal: journald runs when it exists
	Stdin       io.Reader     // os.Stdin
	Poll        time.Duration // how often followed files are checked without an fsnotify event (250ms)
}

// Window is a span of the log that starts at a record: the gate's complain
// window, which the kernel's STATUS record of the reload that started it
// opens. The log's order, not the records' stamps, says what came after
// that record: once a source has shown it, every later record of that
// source (its rotated files read oldest first, then the live one) is in
// the window whatever its stamp, so a clock set back inside the window
// hides nothing. Before it, only records dated at or after Start are (an
// undated one is not: nothing shows it is in the window).
//
// Serial gaps count from Start and, in a source that showed the opening
// record, from it on whatever the stamps; losses and malformed lines
// logged after it are marked InWindow (Lost.InWindow, Malformed.InWindow).
type Window struct {
	Start time.Time
	// Opens recognises the opening record; it is returned to fn like any
	// record in the window (Profile does not filter it out).
	Opens func(*Event) bool
}

// Result is what a Read saw: the decoder's counts (including lost-record
// evidence), where each source stopped, and the sources read.
type Result struct {
	Stats   Stats
	Cursor  Cursor
	Sources []string
}

// Read reads AppArmor records from the sources opt names (or the host's
// own) and calls fn for each, in log order. All sources go through one
// Decoder, so a record seen through two of them (kernel log and audit
// transport) is returned once. An error from fn stops the read and is
// returned. With Follow, Read returns when ctx is done (without error).
//
// The *Event passed to fn is valid only during the call: Read reuses its
// storage for later records. To keep an event, keep e.Clone() (or a copy,
// *e: the strings and Extra an Event holds are never overwritten, only the
// Event itself is reused).
func Read(ctx context.Context, opt ReadOptions, fn func(*Event) error) (*Result, error) {
	srcs, err := sourcesFor(opt)
	if err != nil {
		return nil, err
	}
	return readSources(ctx, opt, srcs, fn)
}

// readSources is Read from the sources given.
func readSources(ctx context.Context, opt ReadOptions, srcs []source.Source, fn func(*Event) error) (*Result, error) {
	// Everything Read starts (followers, journalctl, the idle flusher)
	// stops when it returns.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := newReader(opt, fn)
	res := &Result{}
	for _, s := range srcs {
		res.Sources = append(res.Sources, s.Name())
		st := r.state(s.Name())
		if sc := opt.Cursor.Get(s.Name()); sc != nil && !sc.Time.IsZero() && !inFuture(sc.Time) {
			st.after = sc.Time
			if rs, ok := s.(source.Resumer); ok {
				st.resumer = rs
			}
		}
	}

	if !opt.Follow || len(srcs) == 1 {
		if opt.Follow {
			r.startIdleFlush(ctx)
		}
		for _, s := range srcs {
			if err := s.Run(ctx, r.line); err != nil {
				return r.finish(res, srcs, err)
			}
		}
		return r.finish(res, srcs, nil)
	}

	// Several followed sources: one goroutine each, one Decoder behind a
	// lock.
	r.startIdleFlush(ctx)
	errs := make(chan error, len(srcs))
	for _, s := range srcs {
		go func() { errs <- s.Run(ctx, r.line) }()
	}
	var first error
	for range srcs {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel()
		}
	}
	return r.finish(res, srcs, first)
}

// futureSlack is how far past the clock a record's stamp may be and still
// date a cursor (clocks of one host drift apart by less).
const futureSlack = 5 * time.Minute

// inFuture reports whether t is past the clock by more than futureSlack.
func inFuture(t time.Time) bool { return t.After(time.Now().Add(futureSlack)) }

// reader feeds every source's lines through one Decoder, filters the
// events and calls the user's function.
type reader struct {
	// mu guards what follows when sources run concurrently with each
	// other or the idle flusher (following); locked says they do.
	mu     sync.Mutex
	locked bool
	opt    ReadOptions
	fn     func(*Event) error
	dec    *Decoder
	// states are per name events carry (a source's, or a rotated file's,
	// which shares its source's).
	states map[string]*sourceState
	// the state of the last line's file, and of the last event's source
	lineFile string
	lineSt   *sourceState
	evSource string
	evSt     *sourceState
	progress Progress // what the next Progress call reports
	fed      bool     // lines fed since the last idle check
	err      error    // the first error from fn; stops the read
	done     bool     // Read has returned: fn is not called again
}

// sourceState is what the reader keeps per source.
type sourceState struct {
	// after: records up to this time were returned before; zero: none.
	// It stands in for the cursor's position when the source could not
	// resume at it (a file rotated away and compressed): a source that
	// did (resumer says so at its first line) returns only lines after
	// the position, and the time is dropped, so that records stamped
	// before it by a clock set back are not lost.
	after   time.Time
	resumer source.Resumer
	newest  time.Time // the newest record decoded (filtered or not), for the cursor
	// opened: the source showed the Window's opening record; every later
	// record of it is in the window.
	opened bool
}

func newReader(opt ReadOptions, fn func(*Event) error) *reader {
	dec := newReusingDecoder()
	// Serial gaps are counted in the window read (see Lost).
	dec.lost.from = opt.Since
	if opt.Window != nil {
		dec.lost.from = opt.Window.Start
	}
	return &reader{opt: opt, fn: fn, dec: dec, locked: opt.Follow, states: map[string]*sourceState{}}
}

// state returns the state of the source (or file) named name.
func (r *reader) state(name string) *sourceState {
	st := r.states[name]
	if st == nil {
		st = &sourceState{}
		r.states[name] = st
	}
	return st
}

// line feeds one line a source read.
func (r *reader) line(l *source.Line) error {
	if r.locked {
		r.mu.Lock()
		defer r.mu.Unlock()
	}
	if r.err != nil {
		return r.err
	}
	r.fed = true
	where := l.Where()
	if r.opt.Progress != nil {
		r.step(l, where)
	}
	if where != r.lineFile {
		// A rotated file shares its source's state.
		st := r.state(l.Source)
		if where != l.Source && r.states[where] != st {
			r.states[where] = st
			r.evSource = "" // in case it cached the file's old state
		}
		r.lineFile, r.lineSt = where, st
		if st.resumer != nil {
			if st.resumer.Resumed() {
				st.after = time.Time{}
			}
			st.resumer = nil
		}
		if st.opened {
			r.dec.lost.open(where)
		}
	}
	n, m := len(r.dec.stats.Lost), len(r.dec.stats.Malformed)
	var evs []*Event
	switch {
	case l.Err != nil:
		r.dec.Malformed(where, l.No, l.Time, l.Err)
	case l.Origin == source.Audit:
		evs = r.dec.FeedMessage(l.Text, MessageDefaults{Time: l.Time, Serial: l.Serial}, where, l.No)
	default:
		evs = r.dec.FeedOrigin(l.Text, l.Origin, where, l.No)
	}
	// A loss report the message does not date ("kauditd_printk_skb: 12
	// callbacks suppressed" in kmsg or the journal) takes the line's time
	// from its source, so that it falls in or out of a window.
	for i := n; i < len(r.dec.stats.Lost); i++ {
		if r.dec.stats.Lost[i].Time.IsZero() {
			r.dec.stats.Lost[i].Time = l.Time
		}
		r.dec.stats.Lost[i].InWindow = r.lineSt.opened
	}
	for i := m; i < len(r.dec.stats.Malformed); i++ {
		r.dec.stats.Malformed[i].InWindow = r.lineSt.opened
	}
	return r.deliver(evs)
}

// deliver filters events and passes them on, then hands them back to the
// Decoder for reuse; r.mu is held when r.locked.
func (r *reader) deliver(evs []*Event) error {
	defer r.dec.release(evs)
	for _, e := range evs {
		if e.Source != r.evSource || r.evSt == nil {
			r.evSource, r.evSt = e.Source, r.state(e.Source)
		}
		st := r.evSt
		if e.Time.After(st.newest) && !inFuture(e.Time) {
			st.newest = e.Time
		}
		if !r.wanted(e, st) {
			continue
		}
		if err := r.fn(e); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}

func (r *reader) wanted(e *Event, st *sourceState) bool {
	if w := r.opt.Window; w != nil && !st.opened {
		if w.Opens(e) {
			st.opened = true
			r.dec.lost.open(e.Source)
			return true
		}
		if e.Time.IsZero() || e.Time.Before(w.Start) {
			return false
		}
	}
	if !st.opened && !r.opt.Since.IsZero() && !e.Time.IsZero() && e.Time.Before(r.opt.Since) {
		return false
	}
	if !st.after.IsZero() && !e.Time.IsZero() && !e.Time.After(st.after) {
		return false
	}
	if (e.Type == TypeSeccomp) != r.opt.Seccomp {
		return false
	}
	return r.opt.Seccomp || r.opt.Profile == "" || MatchProfile(r.opt.Profile, e.ProfileName())
}

// MatchProfile reports whether label is profile itself, one of its hats or
// children (profile//...), or a stack that contains one of those.
func MatchProfile(profile, label string) bool {
	for part := range strings.SplitSeq(label, "//&") {
		part = strings.TrimPrefix(part, ":")
		if part == profile || strings.HasPrefix(part, profile+"//") {
			return true
		}
	}
	return false
}

// startIdleFlush flushes records held for companions when followed sources
// go quiet, so they are not held back until the next line arrives.
func (r *reader) startIdleFlush(ctx context.Context) {
	go func() {
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			r.mu.Lock()
			if r.done {
				r.mu.Unlock()
				return
			}
			if !r.fed && r.err == nil {
				_ = r.deliver(r.dec.Flush())
			}
			r.fed = false
			r.mu.Unlock()
		}
	}()
}

func (r *reader) finish(res *Result, srcs []source.Source, err error) (*Result, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() { r.done = true }()
	if err == nil && r.err == nil {
		err = r.deliver(r.dec.Flush())
	}
	if err == nil {
		err = r.err
	}
	res.Stats = r.dec.Stats()
	if r.opt.Progress != nil {
		r.progress.Records = res.Stats.Records
		r.progress.Done = true
		r.opt.Progress(r.progress)
	}
	for _, s := range srcs {
		for _, l := range s.Lost() {
			res.Stats.Lost = append(res.Stats.Lost, Lost{Source: l.Source, Line: l.Line, Kind: l.Kind, Count: l.Count, Advice: l.Advice})
		}
		if pos := s.Position(); pos.Source != "" {
			if inFuture(pos.Time) {
				// A record dated in the future (a wrong clock, a
				// forged stamp) must not move the cursor's time: every
				// later record would be skipped as read.
				pos.Time = time.Time{}
			}
			if pos.Time.IsZero() {
				pos.Time = r.state(s.Name()).newest
			}
			// Records up to the old time were read too: after a clock set
			// back, the newest record read now may be older than that.
			if old := r.opt.Cursor.Get(pos.Source); old != nil && old.Time.After(pos.Time) && !inFuture(old.Time) {
				pos.Time = old.Time
			}
			res.Cursor.Set(pos)
		}
	}
	if err != nil {
		return res, err
	}
	return res, nil
}

// note writes a line to the log, if any.
func (opt *ReadOptions) note(format string, args ...any) {
	if opt.Log != nil {
		fmt.Fprintf(opt.Log, format+"\n", args...)
	}
}

// sourceOptions are the options of opt the sources take.
func (opt *ReadOptions) sourceOptions() source.Options {
	return source.Options{
		Since: opt.Since, Follow: opt.Follow, Cursor: opt.Cursor, Poll: opt.Poll, Log: opt.Log,
		AuditLog: opt.AuditLog, AuditdPid: opt.AuditdPid, SyslogFiles: opt.SyslogFiles, Kmsg: opt.Kmsg,
		Journalctl: opt.Journalctl, JournalFile: opt.JournalFile, JournalDir: opt.JournalDir,
	}
}

// HostSource names the log Read reads when opt has no From: the host's
// own (see source.Detect).
func HostSource(opt ReadOptions) (string, error) {
	d, err := source.Detect(opt.sourceOptions())
	return d.Name, err
}

// sourcesFor builds the sources opt asks for.
func sourcesFor(opt ReadOptions) ([]source.Source, error) {
	sopt := opt.sourceOptions()
	if len(opt.From) == 0 {
		d, err := source.Detect(sopt)
		if err != nil {
			return nil, err
		}
		opt.note("reading %s (%s)", d.Name, d.Why)
		return []source.Source{d.Open(sopt)}, nil
	}
	var srcs []source.Source
	seen := map[string]bool{}
	for _, f := range opt.From {
		if seen[f] {
			continue
		}
		seen[f] = true
		if f == "-" {
			in := opt.Stdin
			if in == nil {
				in = os.Stdin
			}
			srcs = append(srcs, source.Stdin(in))
			continue
		}
		fi, err := os.Stat(f)
		if err != nil && !opt.Follow {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		if err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			srcs = append(srcs, source.Kmsg(f, sopt)) // /dev/kmsg: one record per read
			continue
		}
		srcs = append(srcs, source.File(f, sopt))
	}
	return srcs, nil
}
