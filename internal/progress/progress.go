// Package progress draws the one-line progress display of a long read on a
// terminal: lines and records so far, the rate, and for a file the
// position and percentage. It is the only place that writes such a line;
// whoever decides that output is a terminal (and not --json or --quiet)
// makes a Meter, everyone else passes nil.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
)

// Meter draws progress on one terminal line, redrawn at most every
// Interval, and clears it when the read is done. The rate counts from New
// (or the end of the previous read).
type Meter struct {
	w        io.Writer
	interval time.Duration
	now      func() time.Time
	size     func(path string) int64

	start, last time.Time
	drawn       bool
	file        string
	fileSize    int64
}

// Interval is the shortest time between two redraws.
const Interval = 200 * time.Millisecond

// New returns a Meter drawing on w (a terminal's standard error).
func New(w io.Writer) *Meter {
	m := &Meter{w: w, interval: Interval, now: time.Now, size: fileSize}
	m.start = m.now()
	return m
}

// Func is m.Update as an audit.ReadOptions Progress, nil for a nil Meter
// (no display).
func (m *Meter) Func() func(audit.Progress) {
	if m == nil {
		return nil
	}
	return m.Update
}

// Update takes the read's progress and redraws the line when Interval has
// passed since the last redraw; the last update clears it.
func (m *Meter) Update(p audit.Progress) {
	t := m.now()
	if p.Done {
		m.clear()
		m.start = t // the next read's rate counts from here
		return
	}
	if m.drawn && t.Sub(m.last) < m.interval {
		return
	}
	if p.File != m.file {
		m.file, m.fileSize = p.File, m.size(p.File)
	}
	m.last = t
	fmt.Fprintf(m.w, "\r%s\x1b[K", Line(p, m.fileSize, t.Sub(m.start)))
	m.drawn = true
}

func (m *Meter) clear() {
	if m.drawn {
		fmt.Fprint(m.w, "\r\x1b[K")
		m.drawn = false
	}
}

// Line is the progress line: "reading audit.log: 1.2M lines, 340k records
// (410k lines/s), 312 MB of 449 MB (69%)". size is File's size, 0 when
// unknown (gzip, a pipe, the journal); elapsed is the time since the read
// began.
func Line(p audit.Progress, size int64, elapsed time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "reading %s: %s lines, %s records", p.File, count(int64(p.Lines)), count(int64(p.Records)))
	if s := elapsed.Seconds(); s > 0 {
		fmt.Fprintf(&b, " (%s lines/s)", count(int64(float64(p.Lines)/s)))
	}
	switch {
	case p.Offset > 0 && size >= p.Offset:
		fmt.Fprintf(&b, ", %s of %s (%d%%)", byteSize(p.Offset), byteSize(size), p.Offset*100/size)
	case p.Offset > 0:
		fmt.Fprintf(&b, ", %s", byteSize(p.Offset))
	}
	return b.String()
}

// fileSize is the size of a plain file, 0 for anything else or a gzip
// file (whose offsets count decompressed bytes).
func fileSize(path string) int64 {
	if strings.HasSuffix(path, ".gz") {
		return 0
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return 0
	}
	return fi.Size()
}

// count is n for people: 950, 12.3k, 4.5M.
func count(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%dk", n/1000)
	case n >= 1000:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// byteSize is n bytes for people, in powers of 1000 as ls -h --si and df -H
// print them.
func byteSize(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.1f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.0f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
