package audit

import (
	"bytes"
	"sort"
	"strconv"
	"time"
)

// Lost is evidence that records were lost between the kernel and the log,
// with what to change so that they are not.
type Lost struct {
	Source string // where the evidence was read
	Line   int    // the line of the evidence (for serial-gap: where serials first skipped ahead)
	// Kind is "rate-limit" (audit: rate limit exceeded), "audit-lost" (the
	// kernel's audit_lost counter rose), "printk-ratelimit" (N callbacks
	// suppressed), "backlog" (audit: backlog limit exceeded), "hold-queue"
	// (kauditd hold queue overflow), "retry-queue" (kauditd retry queue
	// overflow), "out-of-memory" (out of memory in audit_log_start),
	// "rotation" (the follower found a rotated log file deleted or
	// truncated before it was read to its end), "kmsg-overwritten" (the kernel ring
	// buffer overwrote records before they were read), or
	// "serial-gap": serials of the kernel's sequence missing from a source
	// between records dated in the window read (Since), that no line
	// explained. The kernel numbers every record it logs, and a record
	// dropped by the audit rate limit still used its serial; on Debian 12
	// and 13 (e2e gate-evidence) auditd's log (auditd's own DAEMON_*
	// records aside, which carry auditd's numbers) and, with auditd
	// stopped, /dev/kmsg, kern.log and journald's kernel transport held
	// every serial in normal operation, while `auditctl -r 5` left gaps in
	// auditd's log and nothing else there. A gap is also what a source
	// shows for the time records went elsewhere (auditd ran while kmsg
	// was read): records the source cannot show. The gate counts only
	// auditd's log's gaps (Auditd). Records dropped at the
	// backlog limit use no serial: they show only in the kernel log
	// ("audit_lost=", "backlog limit exceeded").
	Kind  string
	Count int // records (or log lines) lost as the log says; 0 when it does not say
	// Auditd is set on a serial-gap in auditd's log, which carries every
	// record the kernel sends it: there a gap is loss. The kernel log is
	// not held to it: on Debian 12, /dev/kmsg read after a scenario that
	// ran the rate limits showed 64 serials missing in a later window that
	// reported no loss, unexplained (e2e gate-evidence, forged-records).
	Auditd bool `json:",omitempty"`
	Advice string
	// Time is when the loss was logged: the line's audit(...) stamp, its
	// ISO-8601 syslog time, or its traditional syslog time ("Nov 22
	// 10:00:00", local time, the year taken from the records read before
	// it); zero when unknown (a dmesg line, a serial-gap hint, a
	// traditional syslog line before any dated record).
	Time time.Time `json:",omitzero"`
	// InWindow is set when the loss was logged after the opening record
	// of the Window read, in its source's log order: it is in the window
	// whatever Time says (a clock set back).
	InWindow bool `json:",omitempty"`
}

// Counts reports whether the loss counts against a window read from since
// on: logged after its opening record, of unknown time, or dated at or
// after since.
func (l Lost) Counts(since time.Time) bool {
	return l.InWindow || l.Time.IsZero() || !l.Time.Before(since)
}

// The advice for each kind of loss.
const (
	adviceRateLimit = "the audit rate limit dropped records: disable it while learning (auditctl -r 0, or -r 0 in /etc/audit/rules.d)"
	adviceBacklog   = "the kernel's audit backlog overflowed: boot with audit_backlog_limit=8192 (or more) on the kernel command line and raise auditd's backlog (-b 8192 in /etc/audit/rules.d)"
	advicePrintk    = "the kernel log rate limit dropped lines: set /proc/sys/kernel/printk_ratelimit to 0 while learning (sysctl kernel.printk_ratelimit=0) and boot with log_buf_len=16M so the ring buffer keeps them, or run auditd so records bypass the kernel log"
	adviceHold      = "kauditd's hold queue overflowed (no audit daemon was reading): run auditd, and boot with audit_backlog_limit=8192 on the kernel command line"
	adviceGap       = "audit serials are missing that no line in this source explains: records the audit rate limit dropped (auditctl -r 0 while learning), or records that went to another log for a while (auditd started or stopped: read the log they went to)"
)

// lostState tracks, per source, the kernel's audit_lost counter and which
// audit serials were seen.
type lostState struct {
	sources map[string]*sourceSerials
	last    *sourceSerials
	lastSrc string
	// from: serials of records dated before it are not tracked (a gap
	// before a read's window is not a gap in it), except in a source
	// opened (see open); zero tracks all.
	from time.Time
}

// stampTime is the audit(...) time of a line, when from asks for it.
func (l *lostState) stampTime(line []byte) time.Time {
	if l.from.IsZero() {
		return time.Time{}
	}
	if i := bytes.Index(line, keyAudit); i >= 0 {
		if t, _, _, err := parseStamp(line, i+len(keyAudit)); err == nil {
			return t
		}
	}
	return time.Time{}
}

// serialWindow is how far out of order records may arrive (several CPUs log
// at once) before a missing serial counts as a gap.
const serialWindow = 512

type sourceSerials struct {
	// opened: the source showed the opening record of the window read;
	// its later serials are tracked whatever their stamps (see open).
	opened    bool
	auditLost int64
	auditd    bool   // lines in auditd's own form were read: auditd's log
	base      uint64 // lowest serial of the window
	max       uint64 // highest serial seen; 0 before the first
	slots     [serialWindow]uint64
	missing   uint64 // serials that left the window unseen
	firstGap  int    // line where the first gap was noticed
	firstJump int    // line of the first serial that skipped ahead
}

func newLostState() lostState {
	return lostState{sources: map[string]*sourceSerials{}}
}

func (l *lostState) source(name string) *sourceSerials {
	if l.last != nil && l.lastSrc == name {
		return l.last
	}
	s := l.sources[name]
	if s == nil {
		s = &sourceSerials{}
		l.sources[name] = s
	}
	l.last, l.lastSrc = s, name
	return s
}

// serial notes that an audit record with serial n, logged at t (zero:
// unknown), was seen.
func (l *lostState) serial(source string, lineNo int, n uint64, t time.Time) {
	if n == 0 {
		return
	}
	s := l.source(source)
	if !s.opened && !t.IsZero() && t.Before(l.from) {
		return
	}
	switch {
	case s.max == 0:
		s.base, s.max = n, n
	case n < s.base:
		if s.base-n > 4*serialWindow {
			// The serial restarted (a reboot): settle the old window.
			s.missing += s.unseen()
			s.base, s.max = n, n
			clear(s.slots[:])
		}
		// Otherwise a late record whose slot already left the window.
		if s.max != n {
			return
		}
	case n >= s.base+serialWindow:
		s.advance(n-serialWindow+1, lineNo)
	}
	if n > s.max+1 && s.firstJump == 0 {
		s.firstJump = lineNo
	}
	s.slots[n%serialWindow] = n
	s.max = max(s.max, n)
}

// open notes that source showed the opening record of the window read:
// from its next line on, serials count whatever their stamps, since the
// log's order shows they came after the window's start.
func (l *lostState) open(source string) {
	l.source(source).opened = true
}

// advance moves the window base to b, counting unseen serials as missing.
func (s *sourceSerials) advance(b uint64, lineNo int) {
	before := s.missing
	end := min(b, s.base+serialWindow)
	for x := s.base; x < end && x <= s.max; x++ {
		if s.slots[x%serialWindow] != x {
			s.missing++
		}
	}
	if b > s.max+1 {
		s.missing += b - s.max - 1
	}
	s.base = b
	if s.missing > before && s.firstGap == 0 {
		s.firstGap = lineNo
	}
}

// unseen counts the serials in the window up to max not seen yet.
func (s *sourceSerials) unseen() uint64 {
	var n uint64
	for x := s.base; x <= s.max; x++ {
		if s.slots[x%serialWindow] != x {
			n++
		}
	}
	return n
}

var (
	lostRateLimit  = []byte("audit: rate limit exceeded")
	lostBacklog    = []byte("audit: backlog limit exceeded")
	lostHold       = []byte("kauditd hold queue overflow")
	lostRetry      = []byte("kauditd retry queue overflow")
	lostOOM        = []byte("audit: out of memory in audit_log_start")
	lostAuditLost  = []byte("audit_lost=")
	lostSuppressed = []byte(" callbacks suppressed")
	lostAudit      = []byte("audit")
)

// line looks for loss reports in a line that is not an audit record; ref is
// the time of the last record read (zero if none), to date traditional
// syslog stamps, which have no year.
func (l *lostState) line(st *Stats, line []byte, source string, lineNo int, ref time.Time) {
	n := len(st.Lost)
	l.detect(st, line, source, lineNo)
	if len(st.Lost) > n {
		t := lineTime(line, ref)
		for i := n; i < len(st.Lost); i++ {
			st.Lost[i].Time = t
		}
	}
}

// lineTime is when a log line was logged: its audit(...) stamp, a leading
// ISO-8601 time, or a leading traditional syslog time dated by ref; zero
// when none of these.
func lineTime(line []byte, ref time.Time) time.Time {
	if i := bytes.Index(line, keyAudit); i >= 0 {
		if t, _, _, err := parseStamp(line, i+len(keyAudit)); err == nil {
			return t
		}
	}
	if t := isoPrefixTime(line); !t.IsZero() {
		return t
	}
	return syslogTime(line, ref)
}

// syslogTime parses a leading "Jan _2 15:04:05" (RFC 3164, local time). The
// year is ref's, or the year before when that would put the line more than a
// day after ref (a log that crossed New Year). Zero without ref.
func syslogTime(line []byte, ref time.Time) time.Time {
	const layout = "Jan _2 15:04:05"
	if ref.IsZero() || len(line) < len(layout) || line[3] != ' ' || line[9] != ':' {
		return time.Time{}
	}
	t, err := time.ParseInLocation(layout, string(line[:len(layout)]), time.Local)
	if err != nil {
		return time.Time{}
	}
	ref = ref.In(time.Local)
	t = t.AddDate(ref.Year(), 0, 0)
	if t.After(ref.Add(24 * time.Hour)) {
		t = t.AddDate(-1, 0, 0)
	}
	return t.UTC()
}

// detect appends the loss reports in line to st.Lost.
func (l *lostState) detect(st *Stats, line []byte, source string, lineNo int) {
	if i := bytes.Index(line, lostSuppressed); i >= 0 {
		// "__ratelimit: 36 callbacks suppressed",
		// "kauditd_printk_skb: 12 callbacks suppressed". Other subsystems'
		// suppressed messages (net_ratelimit, ...) are not audit records.
		j := i
		for j > 0 && line[j-1] >= '0' && line[j-1] <= '9' {
			j--
		}
		n, _ := strconv.Atoi(string(line[j:i]))
		head := line[:j]
		if bytes.Contains(head, lostAudit) || bytes.Contains(head, []byte("__ratelimit")) {
			st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "printk-ratelimit", Count: n, Advice: advicePrintk})
		}
		return
	}
	if !bytes.Contains(line, lostAudit) {
		return
	}
	switch {
	case bytes.Contains(line, lostRateLimit):
		st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "rate-limit", Advice: adviceRateLimit})
	case bytes.Contains(line, lostBacklog):
		st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "backlog", Advice: adviceBacklog})
	case bytes.Contains(line, lostHold):
		st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "hold-queue", Advice: adviceHold})
	case bytes.Contains(line, lostRetry):
		st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "retry-queue", Advice: adviceHold})
	case bytes.Contains(line, lostOOM):
		st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "out-of-memory", Advice: adviceBacklog})
	}
	if i := bytes.Index(line, lostAuditLost); i >= 0 {
		j := i + len(lostAuditLost)
		k := j
		for k < len(line) && line[k] >= '0' && line[k] <= '9' {
			k++
		}
		n, err := strconv.ParseInt(string(line[j:k]), 10, 64)
		if err != nil {
			return
		}
		s := l.source(source)
		if n > s.auditLost {
			st.Lost = append(st.Lost, Lost{Source: source, Line: lineNo, Kind: "audit-lost", Count: int(n - s.auditLost), Advice: adviceBacklog})
		}
		s.auditLost = n
	}
}

// report returns the certain losses followed by one serial-gap hint per
// source that has unexplained serials.
func (l *lostState) report(certain []Lost) []Lost {
	out := append([]Lost(nil), certain...)
	names := make([]string, 0, len(l.sources))
	for name := range l.sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		s := l.sources[name]
		n := s.missing + s.unseen()
		if n == 0 {
			continue
		}
		line := s.firstJump
		if line == 0 {
			line = s.firstGap
		}
		out = append(out, Lost{Source: name, Line: line, Kind: "serial-gap", Count: int(n), Advice: adviceGap, Auditd: s.auditd})
	}
	return out
}
