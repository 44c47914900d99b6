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
	"github.com/aa-flow/aa-flow/internal/termsafe"
	"github.com/aa-flow/aa-flow/propose"
)

// ErrGateRefused is wrapped by Enforce's error when the gate refuses.
var ErrGateRefused = errors.New("enforce gate refused")

// EventSource reads the audit records of window w and calls fn for each:
// its opening record (w.Opens: the kernel's STATUS record of the reload
// that started it, read from w.ReadFrom on), and the records about the
// profile (its hats and children too) in the window: in a source that shows
// the opening record, every one logged after it, whatever its stamp (a
// clock set back inside the window hides nothing); in one that does not,
// those dated at or after w.Start. It reports what it could not read in the
// window (records lost and malformed, serial gaps) and which sources it
// read. An event is valid only during fn (Clone to keep it). learn.Events
// wires audit.Read (with audit.Window) here.
type EventSource func(ctx context.Context, w Window, fn func(*audit.Event) error) (SourceStats, error)

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
	// Disconnected counts the uncovered records of a disconnected path
	// (propose.DisconnectedPath), which no rule can cover.
	Disconnected int      `json:"disconnected,omitempty"`
	Samples      []Sample `json:"samples,omitempty"`
	// Loaded is the kernel's record of the load that started the window
	// (apparmor="STATUS" operation="profile_load" or "profile_replace"
	// name=NAME): the proof that the logs read were capturing the
	// profile's records from its start. nil when they hold none.
	Loaded *Sample `json:"loaded,omitempty"`
	// Evidence is the verdict on the logs (EvidenceComplete, ...): the
	// gate and status report the same one.
	Evidence string `json:"evidence"`
	SourceStats
	// KernelLost is how many audit records the kernel itself counted as
	// dropped (audit_status.lost, read at the window's start and now)
	// in the window: records dropped at the backlog limit use no serial
	// and leave nothing in auditd's log, so only this count shows them.
	// KernelLostUnknown says why the count is unknown, "" when known; an
	// unknown count is incomplete evidence.
	KernelLost        int64  `json:"kernel_lost"`
	KernelLostUnknown string `json:"kernel_lost_unknown,omitempty"`

	Reasons []string `json:"reasons,omitempty"` // why it refused
	Advice  []string `json:"advice,omitempty"`  // what to do
}

const maxSamples = 10

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
	win, err := h.Window(name)
	if err != nil {
		return nil, err
	}
	start := win.Start
	quiet := opts.QuietFor
	now := h.now()
	r := &GateReport{Profile: name, WindowStart: start, Window: now.Sub(start), QuietFor: quiet}
	stats, err := opts.Events(ctx, win, func(e *audit.Event) error {
		if isLoad(e, name) {
			if r.Loaded == nil && win.Opens(e) {
				s := sample(e)
				r.Loaded = &s
			}
			return nil
		}
		// The source returns only the window's records (see
		// EventSource). A record stamped with the zero time (no kernel
		// writes one) is not counted even after the opening record.
		if !isAccess(e) || !belongs(e, name) || e.Time.IsZero() {
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
		if propose.DisconnectedPath(e) {
			r.Disconnected++
		}
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
	r.KernelLost, r.KernelLostUnknown = h.kernelLost(win)
	r.Evidence = r.evidenceVerdict()
	if r.Uncovered > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d of %d records for %s since %s are not covered by the profile",
			r.Uncovered, r.Records, name, start.Format(time.RFC3339)))
		r.Advice = append(r.Advice, fmt.Sprintf("run `aa-flow learn %s`, review the proposal and `aa-flow apply %s`; the window restarts then", name, name))
	}
	if r.Disconnected > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d of them are of a disconnected path (info=%q), which learn cannot propose a rule for",
			r.Disconnected, propose.DisconnectedInfo))
		r.Advice = append(r.Advice, propose.DisconnectedAdvice(name))
	}
	if r.Lost > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("evidence incomplete: %d audit records were lost in the window, so the logs cannot show the profile is complete", r.Lost))
		r.Advice = append(r.Advice, "raise the audit backlog (auditctl -b 8192), turn off the audit rate limit (auditctl -r 0) or the kernel's printk rate limit, then restart the window (aa-flow complain "+name+") and run the workload again")
	}
	if r.KernelLost > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("evidence incomplete: the kernel counted %d audit records lost since the window's start (audit_status.lost, as auditctl -s shows it); records dropped at the audit backlog limit leave no trace in auditd's log",
			r.KernelLost))
		r.Advice = append(r.Advice, "raise the audit backlog (auditctl -b 8192, and audit_backlog_limit=8192 on the kernel command line) so that bursts are not dropped, then restart the window (aa-flow complain "+name+") and run the workload again")
	}
	if r.KernelLostUnknown != "" {
		r.Reasons = append(r.Reasons, "evidence incomplete: the kernel's count of lost audit records is unknown ("+r.KernelLostUnknown+"), so the logs cannot show that none was dropped at the audit backlog limit, which leaves no trace in auditd's log")
		r.Advice = append(r.Advice, "run aa-flow as root on the host itself (not in a container), where it can read the kernel's audit status, and restart the window (aa-flow complain "+name+") so that its start records the count; or --force if you accept the risk")
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

// kernelLost compares the kernel's lost-record counter now with the one
// journalled at the window's start: how many records it dropped since, or
// why that is unknown (not recorded at the start, unreadable now, or lower
// than at the start: the kernel restarted or the counter was reset).
func (h *Host) kernelLost(w Window) (int64, string) {
	if w.AuditLost == nil {
		if w.AuditLostUnknown != "" {
			return 0, "at the window's start: " + w.AuditLostUnknown
		}
		return 0, "the window's start recorded none: it made no reload, or was journalled by an aa-flow that did not read it"
	}
	st, err := h.auditStatus()
	if err != nil {
		return 0, "now: " + err.Error()
	}
	if st.Lost < *w.AuditLost {
		return 0, fmt.Sprintf("it went down from %d at the window's start to %d: the kernel restarted, or the counter was reset (auditctl --reset-lost), since", *w.AuditLost, st.Lost)
	}
	return int64(st.Lost - *w.AuditLost), ""
}

// evidenceVerdict is the one decision on the logs' evidence.
func (r *GateReport) evidenceVerdict() string {
	switch {
	case r.Lost > 0 || r.Gaps > 0 || r.Malformed > 0 || r.KernelLost > 0 || r.KernelLostUnknown != "":
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
		// A sample is one line: its names come from the record.
		fmt.Fprintf(&b, "\n      %s %s comm=%q (%s:%d)", s.Time.Format(time.RFC3339),
			termsafe.Escape(s.Profile+" "+s.Operation+" "+s.Name+s.Detail), s.Comm, termsafe.Escape(s.Source), s.Line)
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
