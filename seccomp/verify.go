package seccomp

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// InlineHash is the sha256 of a profile as docker inspect shows it inlined:
// the docker CLI reads the file and sends it compacted (encoding/json's
// Compact), so the hash of the compacted file equals the hash of what
// follows "seccomp=" in HostConfig.SecurityOpt.
func InlineHash(profile []byte) (string, error) {
	var b bytes.Buffer
	if err := json.Compact(&b, profile); err != nil {
		return "", fmt.Errorf("%w: %w", ErrFormat, err)
	}
	h := sha256.Sum256(b.Bytes())
	return hex.EncodeToString(h[:]), nil
}

// InspectHash finds the inlined seccomp profile among a container's
// security options and returns its InlineHash; ok is false when the
// container has no custom seccomp profile.
func InspectHash(securityOpts []string) (hash string, ok bool, err error) {
	for _, o := range securityOpts {
		v, found := strings.CutPrefix(o, "seccomp=")
		if !found {
			v, found = strings.CutPrefix(o, "seccomp:")
		}
		if !found || v == "unconfined" || v == "builtin" {
			continue
		}
		h, err := InlineHash([]byte(v))
		return h, err == nil, err
	}
	return "", false, nil
}

// GateReport is the seccomp enforce gate's decision and its evidence.
type GateReport struct {
	Pass        bool          `json:"pass"`
	WindowStart time.Time     `json:"window_start"`
	Window      time.Duration `json:"window_ns"`
	QuietFor    time.Duration `json:"quiet_for_ns"`
	Records     int           `json:"records"`
	New         []string      `json:"new,omitempty"` // syscalls seen and not learned
	Refused     int           `json:"refused"`
	Unmapped    int           `json:"unmapped"`
	Lost        int64         `json:"lost"`
	Reasons     []string      `json:"reasons,omitempty"`
}

// Gate judges whether the learned allow-list may be enforced: the window
// since the last change is at least quietFor long, records of the workload
// reached the logs in it (a learning profile logs every call, so silence
// means the logs do not show the container, never that it is clean), none
// shows a syscall not learned, none was refused or left unnamed, and none
// was lost.
func Gate(learned []string, o Observation, lost int64, start, now time.Time, quietFor time.Duration) GateReport {
	r := GateReport{WindowStart: start, Window: now.Sub(start), QuietFor: quietFor, Records: o.Records,
		Refused: len(o.Refused), Unmapped: len(o.Unmapped), Lost: lost}
	have := map[string]bool{}
	for _, n := range learned {
		have[n] = true
	}
	for n := range o.Seen {
		if !have[n] {
			r.New = append(r.New, n)
		}
	}
	sort.Strings(r.New)
	if len(learned) == 0 {
		r.Reasons = append(r.Reasons, "nothing learned yet: enforcing would refuse every call the default profile allows")
	}
	if o.Records == 0 {
		r.Reasons = append(r.Reasons, "no SECCOMP record in the window: the logs do not show the workload running under the learning profile")
	}
	if len(r.New) > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d syscall(s) seen in the window are not learned: %s", len(r.New), strings.Join(r.New, ", ")))
	}
	if r.Refused > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d call(s) were refused even by the learning profile", r.Refused))
	}
	if r.Unmapped > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d record(s) name a syscall aa-flow cannot map", r.Unmapped))
	}
	if lost > 0 {
		r.Reasons = append(r.Reasons, fmt.Sprintf("%d audit records were lost in the window", lost))
	}
	if r.Window < quietFor {
		r.Reasons = append(r.Reasons, fmt.Sprintf("the learning window is %s, shorter than --quiet-for %s", r.Window.Round(time.Second), quietFor))
	}
	r.Pass = len(r.Reasons) == 0
	return r
}
