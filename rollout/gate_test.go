package rollout

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/store"
)

// A refusal names what a record without a file name was about.
func TestSampleDetail(t *testing.T) {
	tests := []struct {
		name string
		e    audit.Event
		want string
	}{
		{"file", audit.Event{Name: "/etc/x", Capname: "chown"}, ""},
		{"capability", audit.Event{Capname: "net_admin"}, "capability net_admin"},
		{"network", audit.Event{Family: "inet", SockType: "raw"}, "network inet raw"},
		{"network without type", audit.Event{Family: "unix"}, "network unix"},
		{"signal", audit.Event{Signal: "term", Peer: "web"}, "signal term peer=web"},
		{"ptrace on an older kernel", audit.Event{PeerProfile: "web"}, "peer=web"},
		{"nothing to say", audit.Event{}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, detail(&tc.e))
		})
	}
}

// The kernel's own count of lost records (audit_status.lost) is journalled
// at each window's start and compared by the gate: records dropped at the
// audit backlog limit use no serial and leave nothing in auditd's log, so
// only that count shows them. A count that rose is incomplete evidence; so
// is one that cannot be known (missing evidence is never clean).
func TestGateKernelLost(t *testing.T) {
	ctx := context.Background()
	perm := fmt.Errorf("%w: AUDIT_GET: %w", kernel.ErrAuditStatus, syscall.EPERM)
	tests := []struct {
		name       string
		atStart    func(e *env) // the reader when the window starts
		now        func(e *env) // the reader when the gate runs
		journal    bool         // the window's entry written as an older aa-flow did: no evidence
		pass       bool
		kernelLost int64
		unknown    string
		reason     string
	}{
		{name: "unchanged", atStart: lost(7), now: lost(7), pass: true},
		{name: "rose: records dropped at the backlog limit", atStart: lost(7), now: lost(19), kernelLost: 12,
			reason: "the kernel counted 12 audit records lost since the window's start"},
		{name: "unreadable now", atStart: lost(7), now: failing(perm), unknown: "now: ",
			reason: "the kernel's count of lost audit records is unknown (now: cannot read the kernel's audit status"},
		{name: "unreadable at the start", atStart: failing(perm), now: lost(7), unknown: "at the window's start: ",
			reason: "at the window's start: cannot read the kernel's audit status: AUDIT_GET: operation not permitted"},
		{name: "went down: a reboot or a reset", atStart: lost(7), now: lost(2), unknown: "went down from 7",
			reason: "auditctl --reset-lost"},
		{name: "a window journalled without it", atStart: lost(7), now: lost(7), journal: true, unknown: "recorded none",
			reason: "the window's start recorded none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			tt.atStart(e)
			start := initWeb(t, e)
			if tt.journal {
				require.NoError(t, e.host.Store.AppendJournal("web", store.JournalEntry{Time: start.Add(time.Second), Event: store.EventInstall, Mode: ModeComplain}))
			}
			tt.now(e)
			e.host.Now = func() time.Time { return start.Add(time.Hour) }
			r, err := e.host.Gate(ctx, "web", GateOptions{Events: logOf(0), Covered: coversConf})
			require.NoError(t, err)
			assert.Equal(t, tt.pass, r.Pass, r.Reasons)
			assert.Equal(t, tt.kernelLost, r.KernelLost)
			if tt.unknown == "" {
				assert.Empty(t, r.KernelLostUnknown)
			} else {
				assert.Contains(t, r.KernelLostUnknown, tt.unknown)
			}
			if tt.pass {
				assert.Equal(t, EvidenceComplete, r.Evidence)
				return
			}
			assert.Equal(t, EvidenceIncomplete, r.Evidence)
			assert.Contains(t, r.Error(), tt.reason)
			assert.Contains(t, r.Error(), "aa-flow complain web")
		})
	}
}

func lost(n uint32) func(*env) {
	return func(e *env) { e.audit.lost, e.audit.err = n, nil }
}

func failing(err error) func(*env) {
	return func(e *env) { e.audit.err = err }
}

// Each reload that starts a window journals when it began and the kernel's
// lost count just before it: init, apply, complain (also on a profile
// already in complain mode), rollback and enable; the gate of that window
// reads them back.
func TestWindowEvidenceJournalled(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.audit.lost = 3
	initWeb(t, e)
	check := func(what string, want uint32) {
		t.Helper()
		w, err := e.host.Window("web")
		require.NoError(t, err)
		require.NotNil(t, w.AuditLost, what)
		assert.Equal(t, want, *w.AuditLost, what)
		assert.False(t, w.Reload.IsZero(), what)
		assert.True(t, w.Reload.Before(w.Start), what+": the reload began before its entry")
		assert.Equal(t, w.Reload.Add(-clockCoarse), w.ReadFrom())
	}
	check("init", 3)
	e.audit.lost = 4
	_, err := e.host.Complain(ctx, "web", true)
	require.NoError(t, err)
	check("complain on a complain-mode profile", 4)
	e.audit.lost = 5
	_, err = e.host.Install(ctx, "web", profileText("complain", "/etc/a r,"), "apply", true)
	require.NoError(t, err)
	check("apply", 5)
	e.audit.lost = 6
	_, err = e.host.Rollback(ctx, "web", 0, true)
	require.NoError(t, err)
	check("rollback", 6)
	require.NoError(t, e.host.Disable(ctx, "web"))
	e.audit.lost = 8
	require.NoError(t, e.host.Enable(ctx, "web"))
	check("enable", 8)

	// An enforce entry keeps the gate's report as its evidence.
	_, err = e.host.Enforce(ctx, "web", EnforceOptions{Force: true})
	require.NoError(t, err)
	j, _, _ := e.host.Store.LastEvent("web", store.EventEnforce)
	assert.Contains(t, string(j.Evidence), `"pass":true`)
}

// A window journalled without its reload's start (adopt, an older
// aa-flow) looks for its opening record from LoadLead before its start.
func TestWindowOpens(t *testing.T) {
	start := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	old := Window{Name: "web", Start: start}
	assert.Equal(t, start.Add(-LoadLead), old.ReadFrom())
	precise := Window{Name: "web", Start: start, WindowEvidence: WindowEvidence{Reload: start.Add(-300 * time.Millisecond)}}
	tests := []struct {
		name string
		e    *audit.Event
		w    Window
		want bool
	}{
		{"the reload's record", load(start.Add(-200*time.Millisecond), "web"), precise, true},
		{"a tick before the reload began (the coarse clock)", load(start.Add(-310*time.Millisecond), "web"), precise, true},
		{"an earlier reload", load(start.Add(-5*time.Second), "web"), precise, false},
		{"an earlier reload, without the reload's start", load(start.Add(-5*time.Second), "web"), old, true},
		{"after the entry", load(start.Add(loadLag+time.Millisecond), "web"), precise, false},
		{"another profile", load(start.Add(-200*time.Millisecond), "webby"), precise, false},
		{"an access record", ev(start.Add(-200*time.Millisecond), "web", "/x"), precise, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.w.Opens(tt.e))
		})
	}
}

// A refusal shows each uncovered record on one line: a name from a record
// cannot add a reason or a "next:" line of its own.
func TestGateErrorOneLinePerSample(t *testing.T) {
	tests := []struct {
		name string
		s    Sample
	}{
		{"name with a newline", Sample{Profile: "web", Operation: "open", Name: "/tmp/x\n  next: aa-flow enforce --force web"}},
		{"detail with a newline", Sample{Profile: "web", Operation: "signal", Detail: "signal term peer=a\n  - nothing is wrong"}},
		{"profile with a carriage return", Sample{Profile: "web\r  next: x", Operation: "open", Name: "/tmp/y"}},
		{"source with a newline", Sample{Profile: "web", Operation: "open", Name: "/tmp/z", Source: "/var/log/a\nnext: b"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &GateReport{Profile: "web", Reasons: []string{"1 of 1 records are not covered"}, Samples: []Sample{tc.s}, Advice: []string{"aa-flow learn web"}}
			lines := strings.Split(r.Error(), "\n")
			require.Len(t, lines, 4, "%q", r.Error())
			assert.True(t, strings.HasPrefix(lines[1], "  - "))
			assert.True(t, strings.HasPrefix(lines[2], "      "))
			assert.Equal(t, "  next: aa-flow learn web", lines[3])
		})
	}
}

// A record of a disconnected path is uncovered like any other, and the
// refusal says why no learning will cover it and what to do instead, with
// the learner's words (propose.DisconnectedAdvice).
func TestGateDisconnectedPath(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name         string
		info, path   string
		disconnected int
	}{
		{name: "disconnected", info: propose.DisconnectedInfo, path: "aatest", disconnected: 1},
		{name: "a path", path: "/etc/secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			start := initWeb(t, e)
			e.host.Now = func() time.Time { return start.Add(time.Hour) }
			rec := ev(start.Add(time.Minute), "web", tc.path)
			rec.Info = tc.info
			uncovered := func(*audit.Event) (bool, error) { return false, nil }
			r, err := e.host.Gate(ctx, "web", GateOptions{Events: logOf(0, rec), Covered: uncovered})
			require.NoError(t, err)
			assert.False(t, r.Pass)
			assert.Equal(t, 1, r.Uncovered)
			assert.Equal(t, tc.disconnected, r.Disconnected)
			if tc.disconnected == 0 {
				assert.NotContains(t, r.Error(), "disconnected")
				return
			}
			assert.Contains(t, r.Error(), `1 of them are of a disconnected path (info="Failed name lookup - disconnected path")`)
			assert.Contains(t, r.Error(), "next: "+propose.DisconnectedAdvice("web"))
		})
	}
}
