package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// ReadOptions say which logs Read reads and which records it returns.
type ReadOptions struct {
	// From lists files to read ("-" is stdin; gzip is decompressed
	// transparently). Empty: detect the host's source (see Detect).
	From []string
	// Since drops records older than this. Rotated files (NAME.1,
	// NAME.2.gz, ...) are read, oldest first, only as far back as needed.
	Since time.Time
	// Follow keeps reading new records, across log rotation, until ctx is
	// done.
	Follow bool
	// Cursor resumes after what a previous Read returned (nil: from the
	// start, or from Since).
	Cursor *Cursor
	// Profile keeps only records for this profile, its hats and children
	// (NAME//...); "" keeps all.
	Profile string
	// Log receives notes such as which source is read (stderr); nil: none.
	Log io.Writer

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
	// Everything Read starts (followers, journalctl, the idle flusher)
	// stops when it returns.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &reader{opt: opt, fn: fn, dec: newReusingDecoder(), after: map[string]time.Time{}}
	for _, s := range srcs {
		if sc := opt.Cursor.Get(s.name()); sc != nil && !sc.Time.IsZero() {
			r.after[s.name()] = sc.Time
		}
	}
	res := &Result{}
	for _, s := range srcs {
		res.Sources = append(res.Sources, s.name())
	}

	if !opt.Follow || len(srcs) == 1 {
		if opt.Follow {
			r.startIdleFlush(ctx)
		}
		for _, s := range srcs {
			if err := s.run(ctx, r); err != nil {
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
		go func() { errs <- s.run(ctx, r) }()
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

// source is one place records come from.
type source interface {
	name() string
	// run reads the source to its end (or, following, until ctx is done),
	// passing lines to r.
	run(ctx context.Context, r *reader) error
	// position is where the source stopped, for the cursor.
	position() SourceCursor
	// lost is evidence of records lost that only the source can see
	// (/dev/kmsg's ring buffer overwritten).
	lost() []Lost
}

// reader feeds every source's lines through one Decoder, filters the
// events and calls the user's function.
type reader struct {
	mu    sync.Mutex
	opt   ReadOptions
	fn    func(*Event) error
	dec   *Decoder
	after map[string]time.Time // per source: records up to this time were returned before
	fed   bool                 // lines fed since the last idle check
	// newest is the time of the newest record decoded (filtered or not),
	// for the cursor of a source read alone.
	newest time.Time
	err    error // the first error from fn; stops the read
	done   bool  // Read has returned: fn is not called again
}

// line feeds one log line read from source.
func (r *reader) line(line []byte, source string, lineNo int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lineLocked(line, source, lineNo)
}

// lineLocked is line with r.mu already held, for a source that takes the
// lock once for many lines.
func (r *reader) lineLocked(line []byte, source string, lineNo int) error {
	if r.err != nil {
		return r.err
	}
	r.fed = true
	return r.deliver(r.dec.Feed(line, source, lineNo))
}

// message feeds one journald audit-transport MESSAGE.
func (r *reader) message(msg []byte, def MessageDefaults, source string, lineNo int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.fed = true
	return r.deliver(r.dec.FeedMessage(msg, def, source, lineNo))
}

// deliver filters events and passes them on, then hands them back to the
// Decoder for reuse; r.mu is held.
func (r *reader) deliver(evs []*Event) error {
	defer r.dec.release(evs)
	for _, e := range evs {
		if e.Time.After(r.newest) {
			r.newest = e.Time
		}
		if !r.wanted(e) {
			continue
		}
		if err := r.fn(e); err != nil {
			r.err = err
			return err
		}
	}
	return nil
}

func (r *reader) wanted(e *Event) bool {
	if !r.opt.Since.IsZero() && !e.Time.IsZero() && e.Time.Before(r.opt.Since) {
		return false
	}
	if t, ok := r.after[e.Source]; ok && !e.Time.IsZero() && !e.Time.After(t) {
		return false
	}
	return r.opt.Profile == "" || MatchProfile(r.opt.Profile, e.ProfileName())
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

func (r *reader) finish(res *Result, srcs []source, err error) (*Result, error) {
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
	for _, s := range srcs {
		res.Stats.Lost = append(res.Stats.Lost, s.lost()...)
		if pos := s.position(); pos.Source != "" {
			if old := r.opt.Cursor.Get(pos.Source); old != nil && pos.Time.IsZero() {
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

// sourcesFor builds the sources opt asks for.
func sourcesFor(opt ReadOptions) ([]source, error) {
	if len(opt.From) == 0 {
		d, err := Detect(opt)
		if err != nil {
			return nil, err
		}
		opt.note("reading %s (%s)", d.Name, d.Why)
		return []source{d.source(opt)}, nil
	}
	var srcs []source
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
			srcs = append(srcs, &stdinSource{in: in})
			continue
		}
		fi, err := os.Stat(f)
		if err != nil && !opt.Follow {
			return nil, fmt.Errorf("read %s: %w", f, err)
		}
		if err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			srcs = append(srcs, newKmsgSource(f, opt)) // /dev/kmsg: one record per read
			continue
		}
		srcs = append(srcs, newFileSource(f, opt))
	}
	return srcs, nil
}
