package rollout

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/store"
)

// Status is where one profile stands, from the kernel and from aa-flow's
// state.
type Status struct {
	Name        string `json:"name"`
	Managed     bool   `json:"managed"`
	ProfilePath string `json:"profile_path,omitempty"`
	// FileMode is the mode the profile file's flags ask for.
	FileMode string `json:"file_mode,omitempty"`
	// KernelMode is the mode the kernel reports; empty when not loaded or
	// when the kernel has no AppArmor (see Kernel).
	KernelMode string `json:"kernel_mode,omitempty"`
	Loaded     bool   `json:"loaded"`
	// Kernel is empty when the kernel was read, else why it could not be.
	Kernel        string `json:"kernel,omitempty"`
	Disabled      bool   `json:"disabled"`
	ForceComplain bool   `json:"force_complain"`
	// Revision is the stored revision the file holds; 0 with Modified when
	// the file was edited outside aa-flow.
	Revision  int  `json:"revision"`
	Revisions int  `json:"revisions"`
	Modified  bool `json:"modified,omitempty"`
	// RollbackTo is the revision aa-flow rollback NAME would reinstate
	// (nil when there is none: the first revision, a file edited outside
	// aa-flow).
	RollbackTo *store.Revision `json:"rollback_to,omitempty"`
	Stage      string          `json:"stage"` // complain, enforce, disabled, unloaded, unmanaged
	Since      time.Time       `json:"since,omitzero"`
	// ComplainSince and EnforceSince are when the profile last entered
	// each mode, from the journal (zero when it never did).
	ComplainSince time.Time        `json:"complain_since,omitzero"`
	EnforceSince  time.Time        `json:"enforce_since,omitzero"`
	LastApply     time.Time        `json:"last_apply,omitzero"`
	Processes     []kernel.Process `json:"processes,omitempty"`
	// Gate is the enforce gate evaluated now (complain stage only, and only
	// when a log source was given).
	Gate     *GateReport `json:"gate,omitempty"`
	GateErr  string      `json:"gate_error,omitempty"`
	Problems []string    `json:"problems,omitempty"`
}

// Status reports on the managed profile name. gate may be nil (no gate
// evaluation); kernel problems are reported in the result, not as errors.
func (h *Host) Status(ctx context.Context, name string, gate *GateOptions) (*Status, error) {
	st := &Status{Name: name}
	m, err := h.Store.Meta(name)
	if err != nil && !errors.Is(err, store.ErrNotManaged) {
		return nil, err
	}
	st.Managed = err == nil
	var src []byte
	if st.Managed {
		st.ProfilePath = m.Profile
		src, err = os.ReadFile(m.Profile)
		if err != nil {
			st.Problems = append(st.Problems, "profile file unreadable: "+err.Error())
		} else {
			st.FileMode = ModeOf(src, name)
		}
		revs, err := h.Store.Revisions(name)
		if err != nil {
			return nil, err
		}
		st.Revisions = len(revs)
		if src != nil {
			sum := store.SHA256Hex(src)
			for i := len(revs) - 1; i >= 0; i-- {
				if revs[i].SHA256 == sum {
					st.Revision = revs[i].N
					break
				}
			}
			st.Modified = st.Revision == 0
			if r, err := h.RollbackTarget(name, 0); err == nil {
				st.RollbackTo = &r
			}
			if st.Modified {
				st.Problems = append(st.Problems, "the profile file matches no stored revision (edited outside aa-flow)")
			}
		}
		st.Disabled, _ = h.Store.HasLink(store.DisableDir, name)
		st.ForceComplain, _ = h.Store.HasLink(store.ForceComplainDir, name)
		if ws, err := h.WindowStart(name); err == nil {
			st.LastApply = ws
		}
		st.Since, st.ComplainSince, st.EnforceSince = h.stageSince(name)
	}
	if err := h.Kernel.Available(); err != nil {
		st.Kernel = err.Error()
	} else {
		mode, loaded, err := h.Kernel.Mode(name)
		if err != nil {
			st.Kernel = err.Error()
		}
		st.KernelMode, st.Loaded = mode, loaded
		if ps, err := h.Kernel.Processes(); err == nil {
			st.Processes = kernel.ConfinedBy(ps, name)
		}
		if loaded && st.FileMode != "" && mode != st.FileMode {
			st.Problems = append(st.Problems, "the kernel runs ("+mode+") but the file says ("+st.FileMode+"): reload it (aa-flow "+st.FileMode+" "+name+")")
		}
	}
	switch {
	case !st.Managed:
		st.Stage = "unmanaged"
	case st.Disabled:
		st.Stage = "disabled"
	case st.Kernel == "" && !st.Loaded:
		st.Stage = "unloaded"
	case st.Loaded:
		st.Stage = st.KernelMode
	default:
		st.Stage = st.FileMode
	}
	if gate != nil && st.Managed && st.FileMode == ModeComplain {
		r, err := h.Gate(ctx, name, *gate)
		if err != nil {
			st.GateErr = err.Error()
		} else {
			st.Gate = r
		}
	}
	return st, nil
}

// stageSince is when the profile entered its current mode, and when it last
// entered complain and enforce mode, from the journal.
func (h *Host) stageSince(name string) (current, complain, enforce time.Time) {
	j, err := h.Store.Journal(name)
	if err != nil {
		return
	}
	mode := ""
	for _, e := range j {
		if e.Mode == "" || e.Event == store.EventRefused || e.Mode == mode {
			continue
		}
		mode, current = e.Mode, e.Time
		switch mode {
		case ModeComplain:
			complain = e.Time
		case ModeEnforce:
			enforce = e.Time
		}
	}
	return current, complain, enforce
}
