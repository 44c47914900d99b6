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

// EventSource reads the audit records logged at or after since (the
// window's start) and calls fn for each: the records about the profile (its
// hats and children too), and the kernel's STATUS records of loads and
// replacements of it (name=NAME) from LoadLead before since on. It reports
// what it could not read (records lost and malformed since since, serial
// gaps) and which sources it read. An event is valid only during fn (Clone
// to keep it). learn.Events wires audit.Read here.
type EventSource func(ctx context.Context, since time.Time, fn func(*audit.Event) error) (SourceStats, error)

// SourceStats is what an EventSource could not see.
type SourceStats struct {
	// Lost counts records the kernel or the log reports dropped in the
	// window (audit_lost=, rate or backlog limit, hold queue, printk
	// suppression, ring buffer overwritten, a rotated log gone).
	Lost int64 `json:"lost"`
	// Gaps counts the kernel's audit serials missing from a source between
	// records of the window: the kernel numbers every record, and the
	// sources read carry every one (auditd's log; the kernel log with
	// auditd stopped), so a gap is records dropped (the audit rate
	// limit) or logged elsewhere for a while.
	Gaps int64 `json:"gaps"`
	// Malformed counts lines in the kernel's record form that do not
	// parse (cut short or garbled) logged in the window, or undated.
	Malformed int64 `json:"malformed"`
	// FirstMalformed is where the first of them is ("FILE:LINE: why").
	FirstMalformed string `json:"first_malformed,omitempty"`
	// Refused counts lines refused as not the kernel's (forged, another
	// program's tag or transport). They are reported, and are evidence
	// neither for nor against the profile.
	Refused int64    `json:"refused"`
	Sources []string `json:"sources"`
	// HostSource is the source the host's records go to now, when it is
	// not among Sources (for the advice), else "".
	HostSource string `json:"host_source,omitempty"`
}

// The evidence verdicts (GateReport.Evidence).
const (
	// EvidenceComplete: the logs show the kernel's record of the reload
	// that started the window, and report nothing lost or cut short since.
	EvidenceComplete = "complete"
	// EvidenceIncomplete: records were lost, missing (serial gaps) or cut
	// short in the window.
	EvidenceIncomplete = "incomplete"
	// EvidenceNone: the logs cannot show they captured the profile's
	// records from the window's start (rotated away, another source, a
	// ring buffer overwritten): no records is then no evidence.
	EvidenceNone = "none"
)

// LoadLead and loadLag bound how far from the window's start (the journal
// entry aa-flow writes once the kernel has the profile) the kernel's STATUS
// record of that load may be dated: it is logged before the entry (the
// load, then the check of the kernel's list), and the audit clock is coarse.
const (
	LoadLead = time.Minute
	loadLag  = 2 * time.Second
)

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
	// Loaded is the kernel's record of the load that started the window
	// (apparmor="STATUS" operation="profile_load" or "profile_replace"
	// name=NAME): the proof that the logs read were capturing the
	// profile's records from its start. nil when they hold none.
	Loaded *Sample `json:"loaded,omitempty"`
	// Evidence is the verdict on the logs (EvidenceComplete, ...): the
	// gate and status report the same one.
	Evidence string `json:"evidence"`
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

// isLoad reports whether e is the kernel's record of a successful load or
// replacement of profile name.
func isLoad(e *audit.Event, name string) bool {
	return e.Mode == audit.ModeStatus && e.Name == name && !e.HasError() &&
		(e.Operation == "profile_load" || e.Operation == "profile_replace")
}

// sample is the record e as a Sample; e must be valid (it is copied).
func sample(e *audit.Event) Sample {
	return Sample{Time: e.Time, Profile: e.ProfileName(), Operation: e.Operation, Name: e.Name,
		Requested: e.RequestedMask, Detail: detail(e), Comm: e.Comm, PID: max(e.PID, 0), Source: e.Source, Line: e.Line}
}

// Gate evaluates the enforce gate for name: it refuses while any record the
// profile does not cover was logged since the last change, while that window
// is shorter than QuietFor, while the evidence is incomplete (records lost
// or cut short in the window), and while there is none: the logs must hold
// the kernel's record of the load that started the window, else they
// cannot show that no record is no access. EnforceOptions.Force is the only
// way past. Status reports the same verdict from the same function.
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
		if isLoad(e, name) {
			if !e.Time.Before(start.Add(-LoadLead)) && !e.Time.After(start.Add(loadLag)) && (r.Loaded == nil || e.Time.After(r.Loaded.Time)) {
				s := sample(e)
				r.Loaded = &s
			}
			return nil
		}
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
			r.Samples = append(r.Samples, sample(e))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("gate for %s: reading the logs: %w", name, err)
	}
	r.SourceStats = stats
	sort.Strings(r.Sources)
	r.Evidence = r.evidenceVerdict()
	if r.Uncovered > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d of %d records for %s since %s are not covered by the profile",
			r.Uncovered, r.Records, name, start.Format(time.RFC3339)))
		r.Advice = append(r.Advice, fmt.Sprintf("run `aa-flow learn %s`, review the proposal and `aa-flow apply %s`; the window restarts then", name, name))
	}
	if r.Lost > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("evidence incomplete: %d audit records were lost in the window, so the logs cannot show the profile is complete", r.Lost))
		r.Advice = append(r.Advice, "raise the audit backlog (auditctl -b 8192), turn off the audit rate limit (auditctl -r 0) or the kernel's printk rate limit, then restart the window (aa-flow complain "+name+") and run the workload again")
	}
	if r.Gaps > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("evidence incomplete: %d audit serials are missing from %s in the window; the kernel numbers every record and the log carries every one, so records were dropped (an audit rate limit) or went to another log for a while",
			r.Gaps, sourceList(r.Sources)))
		r.Advice = append(r.Advice, "turn the audit rate limit off (auditctl -r 0) and read the log the records go to for the whole window (auditd's log while auditd runs, the kernel log while it does not), then restart the window (aa-flow complain "+name+") and run the workload again")
	}
	if r.Malformed > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("evidence incomplete: %d kernel records in the window are cut short or garbled (first: %s), so the logs cannot show what they were", r.Malformed, r.FirstMalformed))
		r.Advice = append(r.Advice, "find out why records are cut short (a full disk, a log shipper, a line-length limit), then restart the window (aa-flow complain "+name+") and run the workload again")
	}
	if r.Loaded == nil {
		r.Reasons = append(r.Reasons, fmt.Sprintf("no evidence for the window: %s hold no kernel record of the load of %s that started it at %s (apparmor=\"STATUS\" operation=\"profile_replace\" name=\"%s\"), so they cannot show they captured its records since; no records is not a clean record",
			sourceList(r.Sources), name, start.Format(time.RFC3339), name))
		r.Advice = append(r.Advice, r.noEvidenceAdvice())
	}
	if r.Window < quiet {
		r.Reasons = append(r.Reasons, fmt.Sprintf("the complain window is %s, shorter than --quiet-for %s", r.Window.Round(time.Second), quiet))
		r.Advice = append(r.Advice, fmt.Sprintf("let the workload run in complain mode until %s, or pass a shorter --quiet-for if its full behaviour was exercised",
			start.Add(quiet).Format(time.RFC3339)))
	}
	r.Pass = len(r.Reasons) == 0
	return r, nil
}

// evidenceVerdict is the one decision on the logs' evidence.
func (r *GateReport) evidenceVerdict() string {
	switch {
	case r.Lost > 0 || r.Gaps > 0 || r.Malformed > 0:
		return EvidenceIncomplete
	case r.Loaded == nil:
		return EvidenceNone
	}
	return EvidenceComplete
}

// noEvidenceAdvice says where the window's records may be.
func (r *GateReport) noEvidenceAdvice() string {
	where := "read the log the kernel's records go to (--from)"
	switch r.HostSource {
	case "":
	case "journald":
		where = "read the log the kernel's records go to on this host, the journal (no --from)"
	default:
		where = "read the log the kernel's records go to on this host, " + r.HostSource + " (--from " + r.HostSource + ", or no --from)"
	}
	return where + "; if the window's start was rotated away, pass the rotated files too; or restart the window (aa-flow complain " + r.Profile + ", a reload the logs record) and run the workload again"
}

// sourceList names the sources read, for a message.
func sourceList(srcs []string) string {
	if len(srcs) == 0 {
		return "the logs"
	}
	return strings.Join(srcs, ", ")
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
