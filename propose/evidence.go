package propose

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/termsafe"
)

// Evidence is why a rule is proposed: how many audit records asked for it,
// when the first and the last were seen, and one sample of who asked and
// where the record was read.
type Evidence struct {
	Count int       `json:"count"`
	First time.Time `json:"first,omitzero"`
	Last  time.Time `json:"last,omitzero"`
	// Comm and PID are from the first record.
	Comm string `json:"comm,omitempty"`
	PID  int64  `json:"pid,omitempty"`
	// Sender is who logged the first record when that was not the kernel:
	// a D-Bus daemon's USER_AVC, as the kernel names its sender ("pid=363
	// uid=102 subj=unconfined"). Any process with CAP_AUDIT_WRITE can send
	// one, so the person sees whose word the rule rests on.
	Sender string `json:"sender,omitempty"`
	// Source is where the first record was read: "FILE:LINE", "journald", ...
	Source string `json:"source,omitempty"`
	// Lines are the lines of Source's file that held the records, in
	// order, up to MaxLines of them (review's e key reads them again);
	// none when there was one record.
	Lines []int `json:"lines,omitempty"`
}

// MaxLines caps Evidence.Lines: a rule keeps where its first records were
// read, not all of them.
const MaxLines = 20

// add counts one more record.
func (ev *Evidence) add(e *audit.Event) {
	ev.Count++
	widen(&ev.First, &ev.Last, e.Time, e.Time)
	if ev.Count == 1 {
		// Copies: an Evidence outlives the record (Proposer.Add).
		ev.Comm = strings.Clone(e.Comm)
		if e.PID != audit.Unset {
			ev.PID = e.PID
		}
		ev.Source = eventSource(e)
		ev.Sender = sender(e)
	}
	if ev.Count > 1 && e.Line > 0 && len(ev.Lines) < MaxLines && sourceFile(ev.Source) == e.Source {
		if len(ev.Lines) == 0 {
			_, first, _ := strings.Cut(ev.Source[len(e.Source):], ":")
			n, _ := strconv.Atoi(first)
			ev.Lines = append(ev.Lines, n)
		}
		ev.Lines = append(ev.Lines, e.Line)
	}
}

// sender describes a USER_AVC's sender as the kernel logged it, "" for the
// kernel's own records.
func sender(e *audit.Event) string {
	if e.Type != audit.TypeUserAVC {
		return ""
	}
	var parts []string
	if e.SenderPID != audit.Unset {
		parts = append(parts, "pid="+strconv.FormatInt(e.SenderPID, 10))
	}
	if e.SenderUID != audit.Unset {
		parts = append(parts, "uid="+strconv.FormatInt(e.SenderUID, 10))
	}
	// A description for people, printed as it is: the label and the exe
	// (inside msg='...', the sender's own claim, perhaps hex-encoded) are
	// escaped so that neither can break the line it is shown on.
	if e.SenderLabel != "" {
		parts = append(parts, "subj="+termsafe.Escape(e.SenderLabel))
	}
	if e.Exe != "" {
		parts = append(parts, "exe="+termsafe.Escape(e.Exe))
	}
	if len(parts) == 0 {
		return "unknown"
	}
	return strings.Join(parts, " ")
}

// sourceFile is the file of a "FILE:LINE" source, "" for any other.
func sourceFile(src string) string {
	i := strings.LastIndexByte(src, ':')
	if i <= 0 {
		return ""
	}
	if _, err := strconv.Atoi(src[i+1:]); err != nil {
		return ""
	}
	return src[:i]
}

// mergeLines is the first MaxLines of the lines in a and b, sorted, in a
// slice of its own (evidence is copied by value).
func mergeLines(a, b []int) []int {
	out := slices.Concat(a, b)
	slices.Sort(out)
	out = slices.Compact(out)
	return slices.Clip(out[:min(len(out), MaxLines)])
}

// merge folds another rule's evidence into ev (used when generalisation
// turns several literal rules into one).
func (ev *Evidence) merge(o Evidence) {
	if o.Count == 0 {
		return
	}
	if ev.Count == 0 {
		*ev = o
		ev.Lines = slices.Clone(o.Lines)
		return
	}
	if f := sourceFile(ev.Source); len(ev.Lines) < MaxLines && f != "" && f == sourceFile(o.Source) {
		ev.Lines = mergeLines(ev.Lines, o.Lines)
	}
	ev.Count += o.Count
	widen(&ev.First, &ev.Last, o.First, o.Last)
}

// widen stretches the span first..last of a rule's records to take in
// from..to (one record's time, or another span); a zero time is unknown and
// widens nothing. Evidence and the compact tally share it.
func widen(first, last *time.Time, from, to time.Time) {
	if !from.IsZero() && (first.IsZero() || from.Before(*first)) {
		*first = from
	}
	if to.After(*last) {
		*last = to
	}
}

// eventSource is where a record was read ("FILE:LINE", "journald"), in
// memory of its own: it may outlive the record.
func eventSource(e *audit.Event) string {
	return sourceAt(e.Source, e.Line)
}

// sourceAt is "SOURCE:LINE", or SOURCE when the line is not known, in
// memory of its own.
func sourceAt(source string, line int) string {
	switch {
	case source == "":
		return ""
	case line > 0:
		return source + ":" + strconv.Itoa(line)
	default:
		return strings.Clone(source)
	}
}

// String is a one-line summary for people: "12 records, 10:01:02–10:05:00, comm=nginx pid=812".
func (ev Evidence) String() string {
	s := fmt.Sprintf("%d record", ev.Count)
	if ev.Count != 1 {
		s += "s"
	}
	if !ev.First.IsZero() {
		const layout = "2006-01-02 15:04:05"
		if ev.Last.Equal(ev.First) || ev.Last.IsZero() {
			s += ", " + ev.First.UTC().Format(layout)
		} else {
			s += ", " + ev.First.UTC().Format(layout) + " to " + ev.Last.UTC().Format(layout)
		}
	}
	if ev.Comm != "" {
		s += ", comm=" + termsafe.Escape(ev.Comm) // the process names itself: no line breaks
	}
	if ev.PID != 0 {
		s += fmt.Sprintf(" pid=%d", ev.PID)
	}
	if ev.Source != "" {
		s += ", from " + ev.Source
	}
	if ev.Sender != "" {
		s += ", logged by " + ev.Sender
	}
	return s
}
