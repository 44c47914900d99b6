package rollout

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/store"
)

// windowEvents are the journal events that start a complain window: each
// changed the profile file or reloaded it after a gap. A restore after a
// failed change does not: the rules that were running are running again.
func windowEvents() []string {
	return []string{store.EventInit, store.EventAdopt, store.EventInstall,
		store.EventComplain, store.EventRollback, store.EventEnable}
}

// WindowEvidence is what aa-flow journals with the entry that starts a
// window (its Evidence), for the gate to judge the window by later.
type WindowEvidence struct {
	// Reload is when the reload that started the window began, just
	// before apparmor_parser -r ran: the kernel's STATUS record of it is
	// dated from then on. Zero when the entry made no reload (adopt,
	// --no-load) or was written by an aa-flow that did not record it.
	Reload time.Time `json:"reload,omitzero"`
	// AuditLost is the kernel's count of audit records it dropped
	// (audit_status.lost, as `auditctl -s` shows it), read just before the
	// reload; nil when it could not be read, and AuditLostUnknown says
	// why.
	AuditLost        *uint32 `json:"audit_lost,omitempty"`
	AuditLostUnknown string  `json:"audit_lost_unknown,omitempty"`
}

// Window is a profile's current complain window, as its journal entry
// records it.
type Window struct {
	Name  string
	Start time.Time // the journal entry's time
	WindowEvidence
}

// clockCoarse is how far before Reload the kernel may date the reload's
// STATUS record: the audit stamp is the kernel's coarse clock, a tick
// behind.
const clockCoarse = time.Second

// ReadFrom is how far back a source must be read for the window's opening
// record: the reload's start when the entry records it, else LoadLead
// before the window's start.
func (w Window) ReadFrom() time.Time {
	if !w.Reload.IsZero() {
		return w.Reload.Add(-clockCoarse)
	}
	return w.Start.Add(-LoadLead)
}

// Opens reports whether e is the kernel's record of the reload that started
// the window: a successful load or replacement of the profile, dated from
// ReadFrom to loadLag after the window's start. In a source that shows it,
// every later record is in the window whatever its stamp (audit.Window).
func (w Window) Opens(e *audit.Event) bool {
	return isLoad(e, w.Name) && !e.Time.Before(w.ReadFrom()) && !e.Time.After(w.Start.Add(loadLag))
}

// Window returns the profile's current window: its newest window-starting
// journal entry and the evidence recorded with it.
func (h *Host) Window(name string) (Window, error) {
	e, ok, err := h.Store.LastEvent(name, windowEvents()...)
	if err != nil {
		return Window{}, err
	}
	if !ok {
		return Window{}, fmt.Errorf("%s: the journal records no apply yet (aa-flow init or aa-flow apply first)", name)
	}
	w := Window{Name: name, Start: e.Time}
	if len(e.Evidence) > 0 {
		// An entry whose evidence does not read as a window's is one
		// with none recorded: the gate then knows less, never more.
		_ = json.Unmarshal(e.Evidence, &w.WindowEvidence)
	}
	return w, nil
}

// WindowStart is when the profile's current complain window began (see
// Window).
func (h *Host) WindowStart(name string) (time.Time, error) {
	w, err := h.Window(name)
	return w.Start, err
}

// startsWindow reports whether a journal event starts a window.
func startsWindow(event string) bool {
	return slices.Contains(windowEvents(), event)
}

// reloadEvidence is the window evidence of a reload about to run: its
// start, and the kernel's lost-record counter now.
func (h *Host) reloadEvidence() WindowEvidence {
	w := WindowEvidence{Reload: h.now()}
	st, err := h.auditStatus()
	if err != nil {
		w.AuditLostUnknown = err.Error()
	} else {
		lost := st.Lost
		w.AuditLost = &lost
	}
	return w
}

// auditStatus reads the kernel's audit status through the Host's reader.
func (h *Host) auditStatus() (kernel.AuditStatus, error) {
	if h.AuditStatus != nil {
		return h.AuditStatus()
	}
	return kernel.ReadAuditStatus()
}

func (w WindowEvidence) json() json.RawMessage {
	b, err := json.Marshal(w)
	if err != nil {
		return nil
	}
	return b
}
