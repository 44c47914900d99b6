package rollout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/store"
)

// ErrGateRefused is wrapped by Enforce's error when the gate refuses.
var ErrGateRefused = errors.New("enforce gate refused")

// EventSource reads the audit records logged at or after since and calls fn
// for each; it reports what it could not read (lost and malformed records)
// and which sources it read. An event is valid only during fn (Clone to
// keep it). learn.Events wires audit.Read here.
type EventSource func(ctx context.Context, since time.Time, fn func(*audit.Event) error) (SourceStats, error)

// SourceStats is what an EventSource could not see.
type SourceStats struct {
	Lost      int64    `json:"lost"`      // records the kernel or the log dropped
	Malformed int64    `json:"malformed"` // lines that did not parse
	Sources   []string `json:"sources"`
}

// Coverage reports whether the current profile already allows what a record
// shows. learn.Coverage.Event, the learner's own check, is wired here.
type Coverage func(*audit.Event) (covered bool, err error)

// GateOptions are the enforce gate's inputs.
type GateOptions struct {
	// QuietFor is the shortest complain window (time since the last
	// change of the profile) the gate accepts; zero asks for none (the
	// command's default is 24h).
	QuietFor time.Duration
	Events   EventSource
	Covered  Coverage
}

// Sample is one uncovered record, for the person to look at.
type Sample struct {
	Time      time.Time `json:"time"`
	Profile   string    `json:"profile"`
	Operation string    `json:"operation"`
	Name      string    `json:"name,omitempty"`
	Requested string    `json:"requested,omitempty"`
	// Detail names what a record without a file name is about:
	// "capability net_admin", "network inet stream", "signal term peer=x".
	Detail string `json:"detail,omitempty"`
	Comm   string `json:"comm,omitempty"`
	PID    int64  `json:"pid,omitempty"`
	Source string `json:"source,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// GateReport is the gate's decision and the evidence for it; it is stored in
// the journal with the enforce (or refused) entry.
type GateReport struct {
	Profile     string        `json:"profile"`
	Pass        bool          `json:"pass"`
	WindowStart time.Time     `json:"window_start"`
	Window      time.Duration `json:"window_ns"`
	QuietFor    time.Duration `json:"quiet_for_ns"`
	Records     int           `json:"records"`   // records for the profile in the window
	Uncovered   int           `json:"uncovered"` // of which the profile does not cover
	Samples     []Sample      `json:"samples,omitempty"`
	SourceStats
	Reasons []string `json:"reasons,omitempty"` // why it refused
	Advice  []string `json:"advice,omitempty"`  // what to do
}

const maxSamples = 10

// WindowStart is when the profile's current complain window began: the
// newest journal entry that changed the profile file or reloaded it after a
// gap (init, adopt, install, complain, rollback, enable). A restore after a
// failed change does not start a window: the rules that were running are
// running again.
func (h *Host) WindowStart(name string) (time.Time, error) {
	e, ok, err := h.Store.LastEvent(name, store.EventInit, store.EventAdopt, store.EventInstall,
		store.EventComplain, store.EventRollback, store.EventEnable)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, fmt.Errorf("%s: the journal records no apply yet (aa-flow init or aa-flow apply first)", name)
	}
	return e.Time, nil
}

// isAccess reports whether a record is an access decision (as opposed to a
// profile load, a hint or an error).
func isAccess(e *audit.Event) bool {
	switch e.Mode {
	case audit.ModeAllowed, audit.ModeDenied, audit.ModeKill:
		return true
	}
	return false
}

// belongs reports whether a record is about profile name, as the learner
// decides it (propose.Route: hats, children, stacked labels).
func belongs(e *audit.Event, name string) bool {
	_, ok := propose.Route(e.ProfileName(), name)
	return ok
}

// Gate evaluates the enforce gate for name: it refuses while any record the
// profile does not cover was logged since the last change, while that window
// is shorter than QuietFor, or while records were lost in it.
func (h *Host) Gate(ctx context.Context, name string, opts GateOptions) (*GateReport, error) {
	if opts.Events == nil || opts.Covered == nil {
		return nil, errors.New("gate: no log source or coverage check configured")
	}
	start, err := h.WindowStart(name)
	if err != nil {
		return nil, err
	}
	quiet := opts.QuietFor
	now := h.now()
	r := &GateReport{Profile: name, WindowStart: start, Window: now.Sub(start), QuietFor: quiet}
	stats, err := opts.Events(ctx, start, func(e *audit.Event) error {
		// An undated record (or one stamped with the zero time) cannot be
		// shown to be in the window.
		if !isAccess(e) || !belongs(e, name) || e.Time.IsZero() || e.Time.Before(start) {
			return nil
		}
		r.Records++
		ok, err := opts.Covered(e)
		if err != nil {
			return fmt.Errorf("coverage of %s:%d: %w", e.Source, e.Line, err)
		}
		if ok {
			return nil
		}
		r.Uncovered++
		if len(r.Samples) < maxSamples {
			// The record is valid only during this call: keep a copy.
			e = e.Clone()
			r.Samples = append(r.Samples, Sample{Time: e.Time, Profile: e.ProfileName(), Operation: e.Operation, Name: e.Name,
				Requested: e.RequestedMask, Detail: detail(e), Comm: e.Comm, PID: max(e.PID, 0), Source: e.Source, Line: e.Line})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gate for %s: reading the logs: %w", name, err)
	}
	r.SourceStats = stats
	sort.Strings(r.Sources)
	if r.Uncovered > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d of %d records for %s since %s are not covered by the profile",
			r.Uncovered, r.Records, name, start.Format(time.RFC3339)))
		r.Advice = append(r.Advice, fmt.Sprintf("run `aa-flow learn %s`, review the proposal and `aa-flow apply %s`; the window restarts then", name, name))
	}
	if r.Lost > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d audit records were lost in the window, so the logs cannot show the profile is complete", r.Lost))
		r.Advice = append(r.Advice, "raise the audit backlog (auditctl -b 8192) or the kernel's printk rate limit, then run the workload again")
	}
	if r.Window < quiet {
		r.Reasons = append(r.Reasons, fmt.Sprintf("the complain window is %s, shorter than --quiet-for %s", r.Window.Round(time.Second), quiet))
		r.Advice = append(r.Advice, fmt.Sprintf("let the workload run in complain mode until %s, or pass a shorter --quiet-for if its full behaviour was exercised",
			start.Add(quiet).Format(time.RFC3339)))
	}
	r.Pass = len(r.Reasons) == 0
	return r, nil
}

// detail names the object of a record that has no file name.
func detail(e *audit.Event) string {
	peer := e.Peer
	if peer == "" {
		peer = e.PeerProfile
	}
	switch {
	case e.Name != "":
		return ""
	case e.Capname != "":
		return "capability " + e.Capname
	case e.Family != "":
		return strings.TrimSpace("network " + e.Family + " " + e.SockType)
	case e.Signal != "":
		return "signal " + e.Signal + " peer=" + peer
	case peer != "":
		return "peer=" + peer
	}
	return ""
}

// Error is the refusal as one message: every reason, then what to do.
func (r *GateReport) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", r.Profile, ErrGateRefused)
	for _, s := range r.Reasons {
		b.WriteString("\n  - " + s)
	}
	for _, s := range r.Samples {
		fmt.Fprintf(&b, "\n      %s %s %s %s comm=%q (%s:%d)", s.Time.Format(time.RFC3339), s.Profile, s.Operation, s.Name+s.Detail, s.Comm, s.Source, s.Line)
	}
	for _, s := range r.Advice {
		b.WriteString("\n  next: " + s)
	}
	return b.String()
}

func (r *GateReport) evidence() json.RawMessage {
	b, err := json.Marshal(r)
	if err != nil {
		return nil
	}
	return b
}
