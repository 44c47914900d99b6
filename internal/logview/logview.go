// Package logview renders AppArmor events for people: one readable line per
// record (optionally coloured), and a summary of what a read saw (records
// by profile and mode, skipped and malformed lines, lost records with
// advice). `aa-flow logs` is its user; it knows nothing of flags.
package logview

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
)

// ANSI colours.
const (
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	dim    = "\x1b[2m"
	bold   = "\x1b[1m"
	reset  = "\x1b[0m"
)

// ModeFilter selects records by mode: "denied", "allowed" or "all".
type ModeFilter string

// ParseModeFilter checks a --mode value.
func ParseModeFilter(s string) (ModeFilter, error) {
	switch s {
	case "denied", "allowed", "all":
		return ModeFilter(s), nil
	}
	return "", fmt.Errorf("mode %q: want denied, allowed or all", s)
}

// Keep reports whether e passes the filter. "denied" keeps what the kernel
// refused (DENIED, KILLED); "allowed" what complain mode let through
// (ALLOWED); "all" everything.
func (m ModeFilter) Keep(e *audit.Event) bool {
	switch m {
	case "denied":
		return e.Mode == audit.ModeDenied || e.Mode == audit.ModeKill
	case "allowed":
		return e.Mode == audit.ModeAllowed
	}
	return true
}

// ParseSince reads --since: a duration back from now ("90m", "2h", "3d")
// or a time ("2026-11-22", "2026-11-22 10:00", "2026-11-22T10:00:00Z",
// "@1795341600"). Times without a zone are local.
func ParseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			d = -d
		}
		return now.Add(-d), nil
	}
	if rest, ok := strings.CutPrefix(s, "@"); ok {
		if n, err := strconv.ParseInt(rest, 10, 64); err == nil {
			return time.Unix(n, 0), nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, now.Location()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("since %q: want a duration (90m, 2h, 3d) or a time (2026-11-22 10:00, RFC 3339, @UNIX)", s)
}

// Printer writes events as lines.
type Printer struct {
	Color bool
	// Loc is the time zone times are shown in (nil: UTC).
	Loc *time.Location
	b   []byte
}

// Line renders one event: time, mode, profile, operation, the object
// (name -> name2/target, family and socket type, capability, signal and
// peer, ...), the permission masks, and comm[pid].
func (p *Printer) Line(e *audit.Event) string {
	b := p.b[:0]
	loc := p.Loc
	if loc == nil {
		loc = time.UTC
	}
	if !e.Time.IsZero() {
		b = e.Time.In(loc).AppendFormat(b, "2006-01-02 15:04:05.000")
	} else {
		b = append(b, "-                      "...)
	}
	b = append(b, ' ')
	b = p.paint(b, modeColor(e.Mode), fmt.Sprintf("%-7s", e.Mode))
	b = append(b, ' ')
	b = p.paint(b, bold, orDash(e.ProfileName()))
	b = append(b, ' ')
	b = append(b, orDash(e.Operation)...)
	if obj := Object(e); obj != "" {
		b = append(b, ' ')
		b = append(b, obj...)
	}
	if m := masks(e); m != "" {
		b = append(b, ' ')
		b = append(b, m...)
	}
	if e.Info != "" {
		b = append(b, ' ')
		b = p.paint(b, dim, "info="+strconv.Quote(e.Info))
	}
	if e.Comm != "" || e.PID != audit.Unset {
		b = append(b, ' ')
		who := quoteIfOdd(e.Comm)
		if e.PID != audit.Unset {
			who += "[" + strconv.FormatInt(e.PID, 10) + "]"
		}
		b = p.paint(b, dim, who)
	}
	p.b = b
	return string(b)
}

func (p *Printer) paint(b []byte, color, s string) []byte {
	if !p.Color || color == "" {
		return append(b, s...)
	}
	b = append(b, color...)
	b = append(b, s...)
	return append(b, reset...)
}

func modeColor(m audit.Mode) string {
	switch m {
	case audit.ModeDenied, audit.ModeKill, audit.ModeError:
		return red
	case audit.ModeAllowed:
		return yellow
	case audit.ModeAudit:
		return cyan
	}
	return dim
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return quoteIfOdd(s)
}

// quoteIfOdd quotes names with spaces, quotes or characters that are not
// printable (controls, C1 controls, bidirectional and other format
// characters, which strconv.Quote escapes), so one record stays one
// readable line and a terminal acts on none of it.
func quoteIfOdd(s string) string {
	for _, r := range s {
		if r <= ' ' || r == '"' || r == '\uFFFD' || !strconv.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// Object is what a record is about, by class.
func Object(e *audit.Event) string {
	var parts []string
	switch {
	case e.Capname != "" || (e.Operation == "capable" && e.Capability != audit.Unset):
		c := e.Capname
		if c == "" {
			c = strconv.FormatInt(e.Capability, 10)
		}
		parts = append(parts, "capability "+c)
	case e.Family != "" || e.SockType != "":
		n := strings.TrimSpace(e.Family + " " + e.SockType)
		if e.Protocol != audit.Unset && e.Protocol != 0 {
			n += " proto=" + strconv.FormatInt(e.Protocol, 10)
		}
		parts = append(parts, n)
		if e.Laddr != "" || e.Lport != audit.Unset {
			parts = append(parts, "laddr="+addrPort(e.Laddr, e.Lport))
		}
		if e.Faddr != "" || e.Fport != audit.Unset {
			parts = append(parts, "faddr="+addrPort(e.Faddr, e.Fport))
		}
		if e.Addr != "" {
			parts = append(parts, "addr="+quoteIfOdd(e.Addr))
		}
	case e.Signal != "":
		parts = append(parts, "signal="+e.Signal)
	case e.Member != "" || e.Interface != "":
		parts = append(parts, "dbus "+e.Bus+" "+e.Path+" "+e.Interface+"."+e.Member)
		if e.DestName != "" {
			parts = append(parts, "dest="+e.DestName)
		}
	case e.Name != "":
		parts = append(parts, quoteIfOdd(e.Name))
		if e.Name2 != "" {
			parts = append(parts, "-> "+quoteIfOdd(e.Name2))
		}
		if e.Fstype != "" {
			parts = append(parts, "fstype="+e.Fstype)
		}
	}
	if e.Target != "" {
		parts = append(parts, "-> "+quoteIfOdd(e.Target))
	}
	if p := peer(e); p != "" {
		parts = append(parts, "peer="+quoteIfOdd(p))
	}
	return strings.Join(parts, " ")
}

func peer(e *audit.Event) string {
	switch {
	case e.Peer != "":
		return e.Peer
	case e.PeerProfile != "":
		return e.PeerProfile
	}
	return e.PeerLabel
}

func addrPort(a string, p int64) string {
	if p == audit.Unset {
		return a
	}
	if strings.Contains(a, ":") {
		return "[" + a + "]:" + strconv.FormatInt(p, 10)
	}
	return a + ":" + strconv.FormatInt(p, 10)
}

func masks(e *audit.Event) string {
	switch {
	case e.RequestedMask == "" && e.DeniedMask == "":
		return ""
	case e.RequestedMask == e.DeniedMask:
		return `mask="` + e.RequestedMask + `"`
	case e.DeniedMask == "":
		return `requested="` + e.RequestedMask + `"`
	}
	return `requested="` + e.RequestedMask + `" denied="` + e.DeniedMask + `"`
}

// WriteSummary writes what a read saw: records by profile and mode (as
// shown, after --mode), lines skipped, duplicates, malformed lines with
// their first places, and lost records with what to change.
func WriteSummary(w io.Writer, res *audit.Result, shown map[string]map[audit.Mode]int, color bool) {
	p := &Printer{Color: color}
	st := res.Stats
	total := 0
	modes := map[audit.Mode]int{}
	for _, m := range shown {
		for mode, n := range m {
			total += n
			modes[mode] += n
		}
	}
	fmt.Fprintf(w, "%d records%s from %s\n", total, modeList(modes), strings.Join(res.Sources, ", "))
	names := make([]string, 0, len(shown))
	width := 0
	for n := range shown {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s%s\n", width, orDash(n), modeList(shown[n]))
	}
	fmt.Fprintf(w, "%d lines read: %d AppArmor records, %d companion records, %d unrelated lines skipped, %d duplicates dropped\n",
		st.Lines, st.Records, st.Companions, st.Skipped, st.Duplicates)
	if st.MalformedTotal > 0 {
		var first []string
		for i, m := range st.Malformed {
			if i == 5 {
				break
			}
			first = append(first, fmt.Sprintf("%s:%d", m.Source, m.Line))
		}
		b := p.paint(nil, red, fmt.Sprintf("%d malformed lines", st.MalformedTotal))
		fmt.Fprintf(w, "%s (first: %s): %s\n", b, strings.Join(first, ", "), st.Malformed[0].Err)
	}
	if st.RefusedTotal > 0 {
		var first, whys []string
		for i, r := range st.Refused {
			if i == 5 {
				break
			}
			first = append(first, fmt.Sprintf("%s:%d", r.Source, r.Line))
		}
		for _, why := range slices.Sorted(maps.Keys(st.RefusedBy)) {
			whys = append(whys, fmt.Sprintf("%d: %s", st.RefusedBy[why], why.Describe()))
		}
		b := p.paint(nil, red, fmt.Sprintf("%d lines refused as not the kernel's", st.RefusedTotal))
		fmt.Fprintf(w, "%s (first: %s): %s\n", b, strings.Join(first, ", "), strings.Join(whys, "; "))
	}
	for _, l := range st.Lost {
		what := l.Kind
		if l.Count > 0 {
			what = fmt.Sprintf("%s, %d", l.Kind, l.Count)
		}
		b := p.paint(nil, red, "records lost")
		if l.Kind == "serial-gap" {
			b = p.paint(nil, yellow, "records may be missing")
		}
		fmt.Fprintf(w, "%s (%s) at %s:%d: %s\n", b, what, l.Source, l.Line, l.Advice)
	}
}

func modeList(m map[audit.Mode]int) string {
	if len(m) == 0 {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[audit.Mode(k)]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
