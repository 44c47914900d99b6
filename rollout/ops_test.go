package rollout

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/store"
)

// logOf is an EventSource over a fixed list of events, in a log that holds
// the kernel's record of the load that started the window.
func logOf(lost int64, evs ...*audit.Event) EventSource {
	return logWith(SourceStats{Lost: lost}, true, evs...)
}

// logWith is an EventSource over a fixed list of events, in log order, with
// the stats given; with loaded, the log first holds the kernel's STATUS
// record of the load that started the window, logged a moment before the
// journal's entry, as on a real host. It returns what the contract asks
// (as audit.Read with an audit.Window does): the opening record and every
// record after it, and before it only those dated in the window.
func logWith(stats SourceStats, loaded bool, evs ...*audit.Event) EventSource {
	return func(_ context.Context, w Window, fn func(*audit.Event) error) (SourceStats, error) {
		if loaded {
			evs = append([]*audit.Event{load(w.Start.Add(-30*time.Millisecond), "web")}, evs...)
		}
		opened := false
		for _, e := range evs {
			switch {
			case !opened && w.Opens(e):
				opened = true
			case !opened && (e.Time.IsZero() || e.Time.Before(w.Start)):
				continue
			}
			if err := fn(e); err != nil {
				return SourceStats{}, err
			}
		}
		stats.Sources = []string{"test.log"}
		return stats, nil
	}
}

// load is the kernel's record of apparmor_parser replacing profile name.
func load(t time.Time, name string) *audit.Event {
	return &audit.Event{Type: 1400, Mode: audit.ModeStatus, Operation: "profile_replace", Profile: "unconfined", Name: name,
		Time: t, Source: "test.log", Line: 1, Comm: "apparmor_parser", PID: 99}
}

// coversConf is a Coverage that covers everything but /etc/secret.
func coversConf(e *audit.Event) (bool, error) { return e.Name != "/etc/secret", nil }

func ev(t time.Time, profile, name string) *audit.Event {
	return &audit.Event{Mode: audit.ModeAllowed, Operation: "open", Profile: profile, Name: name, RequestedMask: "r", Time: t, Source: "test.log", Line: 7, Comm: "web"}
}

// initWeb installs a complain profile with a hat and returns the time the
// window started.
func initWeb(t *testing.T, e *env) time.Time {
	t.Helper()
	src := []byte("abi <abi/3.0>,\ninclude <tunables/global>\n# my comment\nprofile web /usr/bin/web flags=(complain) {\n  include <abstractions/base>\n  /usr/bin/web mr,\n  ^hat {\n    /srv/** r,\n  }\n}\n")
	_, err := e.host.Install(context.Background(), "web", src, "init", true)
	require.NoError(t, err)
	ws, err := e.host.WindowStart("web")
	require.NoError(t, err)
	return ws
}

func TestGate(t *testing.T) {
	e := newEnv(t)
	start := initWeb(t, e)
	ctx := context.Background()
	later := func(d time.Duration) { clock := start.Add(d); e.host.Now = func() time.Time { return clock } }
	win, err := e.host.Window("web")
	require.NoError(t, err)
	require.False(t, win.Reload.IsZero(), "the window's start records when its reload began")

	tests := []struct {
		name      string
		after     time.Duration
		quiet     time.Duration
		lost      int64
		stats     *SourceStats // with no load record when set (else logOf)
		events    []*audit.Event
		pass      bool
		uncovered int
		reasons   []string
		evidence  string // EvidenceComplete when empty
	}{
		{name: "clean and long enough", after: 25 * time.Hour, quiet: 24 * time.Hour, pass: true,
			events: []*audit.Event{ev(start.Add(time.Hour), "web", "/etc/web.conf")}},
		{name: "uncovered record", after: 25 * time.Hour, uncovered: 1,
			events:  []*audit.Event{ev(start.Add(time.Hour), "web", "/etc/secret")},
			reasons: []string{"1 of 1 records for web"}},
		{name: "uncovered in a hat counts", after: 25 * time.Hour, uncovered: 1,
			events:  []*audit.Event{ev(start.Add(time.Hour), "web//hat", "/etc/secret")},
			reasons: []string{"not covered"}},
		{name: "uncovered under a stacked label counts", after: 25 * time.Hour, uncovered: 1,
			events:  []*audit.Event{ev(start.Add(time.Hour), "docker-default//&web", "/etc/secret")},
			reasons: []string{"not covered"}},
		{name: "other profiles and older records do not count", after: 25 * time.Hour, pass: true, stats: &SourceStats{},
			events: []*audit.Event{ev(start.Add(-time.Hour), "web", "/etc/secret"), load(start.Add(-time.Second), "web"), ev(start.Add(time.Hour), "webby", "/etc/secret")}},
		{name: "the clock set back after the load: the records after it count", after: 25 * time.Hour, uncovered: 1, stats: &SourceStats{},
			events:  []*audit.Event{load(start.Add(-time.Second), "web"), ev(start.Add(-time.Hour), "web", "/etc/secret")},
			reasons: []string{"1 of 1 records for web since"}},
		{name: "window too short", after: time.Hour, quiet: 24 * time.Hour,
			reasons: []string{"complain window is 1h0m0s, shorter than --quiet-for 24h0m0s"}},
		{name: "window long enough for --quiet-for", after: time.Hour, quiet: 30 * time.Minute, pass: true},
		{name: "no minimum window", after: time.Second, pass: true},
		{name: "records lost", after: 25 * time.Hour, lost: 3, evidence: EvidenceIncomplete,
			reasons: []string{"evidence incomplete: 3 audit records were lost"}},
		{name: "a fully learned profile: no access records, the load's record", after: 25 * time.Hour, pass: true},
		{name: "no load record: the log may not hold the window", after: 25 * time.Hour, stats: &SourceStats{}, evidence: EvidenceNone,
			events:  []*audit.Event{ev(start.Add(time.Hour), "web", "/etc/web.conf")},
			reasons: []string{"no evidence for the window: test.log hold no kernel record of the load of web"}},
		{name: "no records at all is no evidence", after: 25 * time.Hour, stats: &SourceStats{}, evidence: EvidenceNone,
			reasons: []string{"no evidence for the window", "no records is not a clean record"}},
		{name: "another profile's load is no proof", after: 25 * time.Hour, stats: &SourceStats{}, evidence: EvidenceNone,
			events:  []*audit.Event{load(start.Add(-time.Second), "webby"), load(start.Add(-time.Second), "web//hat")},
			reasons: []string{"no evidence for the window"}},
		{name: "a load before the reload that started the window is no proof", after: 25 * time.Hour, stats: &SourceStats{}, evidence: EvidenceNone,
			events:  []*audit.Event{load(win.Reload.Add(-2*time.Second), "web")},
			reasons: []string{"no evidence for the window"}},
		{name: "a load after the window began covers only its end", after: 25 * time.Hour, stats: &SourceStats{}, evidence: EvidenceNone,
			events:  []*audit.Event{load(start.Add(time.Hour), "web")},
			reasons: []string{"no evidence for the window"}},
		{name: "a failed load is no proof", after: 25 * time.Hour, stats: &SourceStats{}, evidence: EvidenceNone,
			events: []*audit.Event{func() *audit.Event {
				l := load(start.Add(-time.Second), "web")
				l.Error, l.ErrorSet = -13, true
				return l
			}()},
			reasons: []string{"no evidence for the window"}},
		{name: "the load's record from the parser on a loaded profile", after: 25 * time.Hour, stats: &SourceStats{}, pass: true,
			events: []*audit.Event{func() *audit.Event {
				l := load(start.Add(-time.Second), "web")
				l.Operation, l.Info = "profile_load", "same as current profile, skipping"
				return l
			}()}},
		{name: "a record cut short in the window", after: 25 * time.Hour, evidence: EvidenceIncomplete,
			stats:   &SourceStats{Malformed: 1, FirstMalformed: "audit.log:12: want a closing quote"},
			events:  []*audit.Event{load(start.Add(-time.Second), "web"), ev(start.Add(time.Hour), "web", "/etc/web.conf")},
			reasons: []string{"evidence incomplete: 1 kernel records in the window are cut short or garbled (first: audit.log:12: want a closing quote)"}},
		{name: "serials missing in the window", after: 25 * time.Hour, evidence: EvidenceIncomplete,
			stats:   &SourceStats{Gaps: 107},
			events:  []*audit.Event{load(start.Add(-time.Second), "web"), ev(start.Add(time.Hour), "web", "/etc/web.conf")},
			reasons: []string{"evidence incomplete: 107 audit serials are missing from test.log in the window"}},
		{name: "lines refused as not the kernel's neither block nor open", after: 25 * time.Hour, pass: true,
			stats:  &SourceStats{Refused: 40},
			events: []*audit.Event{load(start.Add(-time.Second), "web")}},
		{name: "refused lines do not make up for a missing load record", after: 25 * time.Hour, stats: &SourceStats{Refused: 40}, evidence: EvidenceNone,
			reasons: []string{"no evidence for the window"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			later(tt.after)
			events := logOf(tt.lost, tt.events...)
			if tt.stats != nil {
				events = logWith(*tt.stats, false, tt.events...)
			}
			r, err := e.host.Gate(ctx, "web", GateOptions{QuietFor: tt.quiet, Events: events, Covered: coversConf})
			require.NoError(t, err)
			assert.Equal(t, tt.pass, r.Pass, r.Reasons)
			want := tt.evidence
			if want == "" {
				want = EvidenceComplete
			}
			assert.Equal(t, want, r.Evidence)
			if want == EvidenceComplete {
				require.NotNil(t, r.Loaded)
				assert.Equal(t, "web", r.Loaded.Name)
			}
			assert.Equal(t, tt.uncovered, r.Uncovered)
			assert.Len(t, r.Samples, tt.uncovered)
			for _, want := range tt.reasons {
				assert.Contains(t, r.Error(), want)
			}
			if !tt.pass {
				assert.NotEmpty(t, r.Advice)
			}
		})
	}
}

func TestEnforce(t *testing.T) {
	e := newEnv(t)
	start := initWeb(t, e)
	ctx := context.Background()
	clock := start.Add(2 * time.Hour)
	e.host.Now = func() time.Time { return clock }
	gate := GateOptions{QuietFor: time.Hour, Covered: coversConf}

	// Refused: an uncovered record. Nothing changes; exit code material.
	gate.Events = logOf(0, ev(start.Add(time.Minute), "web", "/etc/secret"))
	before, _ := os.ReadFile(e.path)
	r, err := e.host.Enforce(ctx, "web", EnforceOptions{Gate: gate})
	require.ErrorIs(t, err, ErrGateRefused)
	assert.False(t, r.Pass)
	assert.Contains(t, err.Error(), "aa-flow learn web")
	after, _ := os.ReadFile(e.path)
	assert.Equal(t, before, after)
	assert.Equal(t, "complain", e.kern.Loaded()["web"])
	last, _, _ := e.host.Store.LastEvent("web", store.EventRefused)
	assert.Contains(t, string(last.Evidence), `"uncovered":1`)

	// Passes: profile and hat enforce, comments kept, kernel verified.
	require.NoError(t, e.host.Store.SetLink(store.ForceComplainDir, "web", true))
	gate.Events = logOf(0, ev(start.Add(time.Minute), "web", "/etc/web.conf"))
	r, err = e.host.Enforce(ctx, "web", EnforceOptions{Gate: gate})
	require.NoError(t, err)
	assert.True(t, r.Pass)
	after, _ = os.ReadFile(e.path)
	assert.Contains(t, string(after), "# my comment\nprofile web /usr/bin/web {\n")
	assert.Equal(t, map[string]string{"web": "enforce", "web//hat": "enforce"}, e.kern.Loaded())
	fc, _ := e.host.Store.HasLink(store.ForceComplainDir, "web")
	assert.False(t, fc, "force-complain link removed")
	j, _, _ := e.host.Store.LastEvent("web", store.EventEnforce)
	assert.Equal(t, "enforce", j.Mode)
	assert.Contains(t, string(j.Evidence), `"pass":true`)

	// Again: nothing to do.
	_, err = e.host.Enforce(ctx, "web", EnforceOptions{Gate: gate})
	require.NoError(t, err)
	assert.Contains(t, e.log.String(), "already in enforce mode")

	// Complain brings it back, with a new window.
	_, err = e.host.Complain(ctx, "web", true)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"web": "complain", "web//hat": "complain"}, e.kern.Loaded())
	ws, _ := e.host.WindowStart("web")
	assert.Equal(t, clock, ws)
	revs, _ := e.host.Store.Revisions("web")
	calls := len(e.kern.Calls())

	// Complain on a profile already in complain mode reloads it (the kernel
	// logs the STATUS record a window's start needs) and starts a new
	// window; the text did not change, so no revision is stored. With
	// --no-load nothing is reloaded and the window stays.
	_, err = e.host.Complain(ctx, "web", false)
	require.NoError(t, err)
	assert.Contains(t, e.log.String(), "the window does not restart")
	assert.Len(t, e.kern.Calls(), calls)
	again, _ := e.host.WindowStart("web")
	assert.Equal(t, ws, again)

	clock = clock.Add(time.Minute)
	_, err = e.host.Complain(ctx, "web", true)
	require.NoError(t, err)
	assert.Contains(t, e.log.String(), "was already in complain mode: reloaded it, a new complain window starts")
	require.Len(t, e.kern.Calls(), calls+1)
	assert.Equal(t, "-r", e.kern.Calls()[calls][0])
	assert.Equal(t, map[string]string{"web": "complain", "web//hat": "complain"}, e.kern.Loaded())
	restarted, _ := e.host.WindowStart("web")
	assert.True(t, restarted.After(ws), "a new window starts at the reload")
	last, _, _ = e.host.Store.LastEvent("web", store.EventComplain)
	assert.Equal(t, "complain", last.Mode)
	revs2, _ := e.host.Store.Revisions("web")
	assert.Equal(t, revs, revs2, "the text did not change: nothing stored")

	// The gate of the new window finds the reload's STATUS record.
	gate.Events = logOf(0)
	e.host.Now = func() time.Time { return restarted.Add(time.Hour) }
	r, err = e.host.Gate(ctx, "web", gate)
	require.NoError(t, err)
	require.NotNil(t, r.Loaded)
	assert.Equal(t, restarted, r.WindowStart)
}

func TestEnforceKernelStaysInComplainRestores(t *testing.T) {
	e := newEnv(t)
	start := initWeb(t, e)
	before, _ := os.ReadFile(e.path)
	e.host.Now = func() time.Time { return start.Add(48 * time.Hour) }
	e.kern.StuckMode = "complain"
	_, err := e.host.Enforce(context.Background(), "web", EnforceOptions{Gate: GateOptions{Events: logOf(0), Covered: coversConf}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the kernel reports web (complain), the file asks for (enforce)")
	after, _ := os.ReadFile(e.path)
	assert.Equal(t, before, after, "previous revision restored")
	calls := e.kern.Calls()
	assert.Len(t, calls, 3, "init load, enforce load, restore load")
}

func TestEnforceHatStaysInComplainRestores(t *testing.T) {
	e := newEnv(t)
	start := initWeb(t, e)
	before := mustRead(t, e.path)
	e.host.Now = func() time.Time { return start.Add(48 * time.Hour) }
	e.kern.StuckModes = map[string]string{"web//hat": "complain"}
	_, err := e.host.Enforce(context.Background(), "web", EnforceOptions{Gate: GateOptions{Events: logOf(0), Covered: coversConf}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the kernel reports web//hat (complain), the file asks for (enforce)")
	assert.Equal(t, before, mustRead(t, e.path))
}

func TestEnforceForceAndNoKernel(t *testing.T) {
	e := newEnv(t)
	initWeb(t, e)
	e.host.Kernel = &kernel.FS{Securityfs: t.TempDir()}
	_, err := e.host.Enforce(context.Background(), "web", EnforceOptions{Force: true})
	require.ErrorIs(t, err, kernel.ErrNoAppArmor)
	_, err = e.host.Enforce(context.Background(), "web", EnforceOptions{Force: true, NoLoad: true})
	require.NoError(t, err)
	assert.Equal(t, "enforce", ModeOf(mustRead(t, e.path), "web"))
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func TestRollbackAndHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := profileText("complain")
	v2 := profileText("complain", "/etc/a r,")
	v3 := profileText("complain", "/etc/a r,", "/etc/b r,")
	for _, v := range [][]byte{v1, v2, v3} {
		_, err := e.host.Install(ctx, "web", v, "apply", true)
		require.NoError(t, err)
	}
	r, err := e.host.Rollback(ctx, "web", 0, true)
	require.NoError(t, err)
	assert.Equal(t, 4, r.N)
	assert.Equal(t, "rollback to revision 2", r.Reason)
	assert.Equal(t, v2, mustRead(t, e.path))
	// Rolling back again goes further back, not forth.
	_, err = e.host.Rollback(ctx, "web", 0, true)
	require.NoError(t, err)
	assert.Equal(t, v1, mustRead(t, e.path))
	_, err = e.host.Rollback(ctx, "web", 0, true)
	assert.ErrorContains(t, err, "nothing earlier")
	_, err = e.host.Rollback(ctx, "web", 3, true)
	require.NoError(t, err)
	assert.Equal(t, v3, mustRead(t, e.path))
	revs, _ := e.host.Store.Revisions("web")
	assert.Len(t, revs, 6, "history is append-only")
	_, err = e.host.Rollback(ctx, "web", 42, true)
	assert.ErrorContains(t, err, "no revision 42")

	// A hand-edited file: no implicit previous.
	require.NoError(t, os.WriteFile(e.path, profileText("complain", "/x r,"), 0o644))
	_, err = e.host.Rollback(ctx, "web", 0, true)
	assert.ErrorContains(t, err, "changed outside aa-flow")
}

func TestDisableEnable(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	initWeb(t, e)
	require.NoError(t, e.host.Disable(ctx, "web"))
	assert.Empty(t, e.kern.Loaded())
	link := filepath.Join(e.host.Store.ProfileDir, "disable", "web")
	target, err := os.Readlink(link)
	require.NoError(t, err)
	assert.Equal(t, e.path, target)
	st, err := e.host.Status(ctx, "web", nil)
	require.NoError(t, err)
	assert.Equal(t, "disabled", st.Stage)
	_, err = e.host.Complain(ctx, "web", true)
	assert.ErrorContains(t, err, "aa-flow enable web first")
	assert.Empty(t, e.kern.Loaded(), "a disabled profile is not loaded behind the person's back")

	require.NoError(t, e.host.Enable(ctx, "web"))
	assert.NoFileExists(t, link)
	assert.Equal(t, "complain", e.kern.Loaded()["web"])
}

func TestDryRunChangesNothing(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := initWeb(t, e)
	before := mustRead(t, e.path)
	calls := len(e.kern.Calls())
	revs, _ := e.host.Store.Revisions("web")
	e.host.DryRun = true
	e.host.Now = func() time.Time { return start.Add(48 * time.Hour) }
	_, err := e.host.Enforce(ctx, "web", EnforceOptions{Gate: GateOptions{Events: logOf(0), Covered: coversConf}})
	require.NoError(t, err)
	_, err = e.host.Rollback(ctx, "web", 1, true)
	require.NoError(t, err)
	require.NoError(t, e.host.Disable(ctx, "web"))
	assert.Equal(t, before, mustRead(t, e.path))
	assert.Len(t, e.kern.Calls(), calls)
	revs2, _ := e.host.Store.Revisions("web")
	assert.Equal(t, revs, revs2)
	assert.NoFileExists(t, filepath.Join(e.host.Store.ProfileDir, "disable", "web"))
	out := e.log.String()
	assert.Contains(t, out, "dry-run: would write "+e.path)
	assert.Contains(t, out, "dry-run: would run: apparmor_parser -I "+e.host.Store.ProfileDir+" -r -W "+e.path)
	assert.Contains(t, out, "dry-run: would link "+filepath.Join(e.host.Store.ProfileDir, "disable", "web"))
	assert.Contains(t, out, "-R "+e.path)
}

// A record stamped with the zero time (0001-01-01T00:00:00Z) is not in the
// window status reports on.
func TestStatusZeroTime(t *testing.T) {
	e := newEnv(t)
	start := initWeb(t, e)
	e.host.Now = func() time.Time { return start.Add(time.Hour) }
	zero, err := time.Parse(time.RFC3339, "0001-01-01T00:00:00Z")
	require.NoError(t, err)
	st, err := e.host.Status(context.Background(), "web", &GateOptions{Covered: coversConf,
		Events: logOf(0, ev(zero, "web", "/etc/secret"), ev(start.Add(time.Minute), "web", "/etc/web.conf"))})
	require.NoError(t, err)
	require.NotNil(t, st.Gate, st.GateErr)
	assert.Equal(t, 1, st.Gate.Records)
	assert.Equal(t, 0, st.Gate.Uncovered)
	assert.True(t, st.Gate.Pass, st.Gate.Reasons)
}

func TestStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	start := initWeb(t, e)
	e.host.Now = func() time.Time { return start.Add(time.Hour) }
	st, err := e.host.Status(ctx, "web", &GateOptions{Events: logOf(2, ev(start.Add(time.Minute), "web", "/etc/secret")), Covered: coversConf})
	require.NoError(t, err)
	assert.True(t, st.Managed)
	assert.Equal(t, "complain", st.Stage)
	assert.Equal(t, "complain", st.KernelMode)
	assert.Equal(t, 1, st.Revision)
	assert.Equal(t, start, st.Since)
	assert.Equal(t, start, st.ComplainSince)
	assert.True(t, st.EnforceSince.IsZero())
	require.NotNil(t, st.Gate)
	assert.False(t, st.Gate.Pass)
	assert.Equal(t, 1, st.Gate.Uncovered)
	assert.Equal(t, int64(2), st.Gate.Lost)

	e.host.Kernel = &kernel.FS{Securityfs: t.TempDir()}
	st, err = e.host.Status(ctx, "web", nil)
	require.NoError(t, err)
	assert.Contains(t, st.Kernel, "AppArmor is not enabled")
	assert.Equal(t, "complain", st.Stage, "from the file when the kernel cannot say")

	st, err = e.host.Status(ctx, "nope", nil)
	require.NoError(t, err)
	assert.Equal(t, "unmanaged", st.Stage)
}

// init validates its text before recording anything and then installs it:
// apparmor_parser compiles it once, not twice. A text that does not
// compile is still refused, and a changed text is compiled again.
func TestCreateCompilesOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	compiles := 0
	inner := e.host.Parser.Exec
	e.host.Parser.Exec = func(ctx context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
		if slices.Contains(args, "-Q") {
			compiles++
		}
		return inner(ctx, name, args, stdin)
	}
	p := filepath.Join(e.host.Store.ProfileDir, "svc")
	src := []byte("profile svc /usr/bin/svc flags=(complain) {\n  /usr/bin/svc mr,\n}\n")
	_, err := e.host.Create(ctx, "svc", p, "/usr/bin/svc", src, false, true)
	require.NoError(t, err)
	assert.Equal(t, 1, compiles)

	_, err = e.host.Install(ctx, "svc", append(bytes.Clone(src[:len(src)-2]), "  /etc/svc r,\n}\n"...), "more", true)
	require.NoError(t, err)
	assert.Equal(t, 2, compiles, "a changed text is compiled")

	_, err = e.host.Create(ctx, "bad", filepath.Join(e.host.Store.ProfileDir, "bad"), "/usr/bin/bad", []byte("profile bad {\n  nonsense here\n}\n"), false, true)
	require.Error(t, err)
	assert.Equal(t, 3, compiles)
	_, err = e.host.Store.Meta("bad")
	assert.Error(t, err, "nothing recorded for a profile that does not compile")
}

func TestCreateAndAdopt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	p := filepath.Join(e.host.Store.ProfileDir, "svc")
	src := []byte("profile svc /usr/bin/svc flags=(complain) {\n  /usr/bin/svc mr,\n}\n")
	r, err := e.host.Create(ctx, "svc", p, "/usr/bin/svc", src, false, true)
	require.NoError(t, err)
	assert.Equal(t, 1, r.N)
	assert.Equal(t, "complain", e.kern.Loaded()["svc"])
	_, err = e.host.Create(ctx, "svc", p, "/usr/bin/svc", src, false, true)
	assert.ErrorContains(t, err, "--force")
	_, err = e.host.Create(ctx, "svc", p, "/usr/bin/svc", src, true, true)
	require.NoError(t, err)

	q := filepath.Join(e.host.Store.ProfileDir, "usr.sbin.dnsmasq")
	require.NoError(t, os.WriteFile(q, mustRead(t, "/etc/apparmor.d/usr.sbin.dnsmasq"), 0o644))
	r, err = e.host.Adopt(ctx, "dnsmasq", q)
	require.NoError(t, err)
	assert.Equal(t, "complain", r.Mode)
	got, _ := e.host.Store.ProfilePath("dnsmasq")
	assert.Equal(t, q, got)
	_, err = e.host.Adopt(ctx, "dnsmasq", q)
	assert.ErrorContains(t, err, "already managed")
	_, err = e.host.Adopt(ctx, "nothere", q)
	assert.ErrorContains(t, err, `no profile "nothere"`)
}
