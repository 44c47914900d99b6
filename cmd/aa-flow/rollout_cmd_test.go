package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/rollout/rollouttest"
	"github.com/aa-flow/aa-flow/store"
)

// hostEnv is a host in temp directories whose apparmor_parser is this test
// binary acting as a stand-in: it compiles with the real parser and loads
// into a fake securityfs (see TestFakeParser).
type hostEnv struct {
	dir, profiles, state, secfs, parser string
}

func newHostEnv(t *testing.T) *hostEnv {
	t.Helper()
	_, err := exec.LookPath("apparmor_parser")
	require.NoError(t, err, "apparmor_parser is required (make deps)")
	d := t.TempDir()
	e := &hostEnv{dir: d, profiles: filepath.Join(d, "apparmor.d"), state: filepath.Join(d, "state"), secfs: filepath.Join(d, "sys")}
	require.NoError(t, os.MkdirAll(e.profiles, 0o755))
	_, err = rollouttest.New(e.secfs, rollout.ModeOf)
	require.NoError(t, err)
	self, err := os.Executable()
	require.NoError(t, err)
	e.parser = filepath.Join(d, "apparmor_parser")
	script := fmt.Sprintf("#!/bin/sh\nAAFLOW_FAKE_SECFS=%q exec %q -test.run='^TestFakeParser$' -- \"$@\"\n", e.secfs, self)
	require.NoError(t, os.WriteFile(e.parser, []byte(script), 0o755))
	return e
}

// run runs aa-flow with the host's global flags and returns exit code,
// stdout and stderr.
func (e *hostEnv) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	full := append([]string{"--profile-dir", e.profiles, "--state-dir", e.state, "--securityfs", e.secfs, "--parser", e.parser}, args...)
	// The fake kernel's audit status: no record lost.
	g := &globalOptions{In: strings.NewReader(""), Out: &out, Err: &errb, Getenv: os.Getenv,
		AuditStatus: func() (kernel.AuditStatus, error) { return kernel.AuditStatus{Enabled: 1}, nil }}
	code := runOptions(g, full)
	return code, out.String(), errb.String()
}

// loads is what the fake kernel logged of the loads so far: the STATUS
// records the enforce gate needs to see for the window's start.
func (e *hostEnv) loads(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(e.secfs, "audit.log"))
	require.NoError(t, err)
	return string(b)
}

func (e *hostEnv) kernel(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join(e.secfs, "apparmor", "profiles"))
	require.NoError(t, err)
	return string(b)
}

// TestFakeParser is the apparmor_parser stand-in when run through the
// wrapper script; otherwise it does nothing.
func TestFakeParser(t *testing.T) {
	secfs := os.Getenv("AAFLOW_FAKE_SECFS")
	if secfs == "" {
		return
	}
	args := os.Args
	for i, a := range args {
		if a == "--" {
			args = args[i+1:]
			break
		}
	}
	k, err := rollouttest.New(secfs, rollout.ModeOf)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	var stdin []byte
	if !strings.HasPrefix(args[len(args)-1], "/") {
		stdin, _ = readAll(os.Stdin)
	}
	out, errb, err := k.Exec(context.Background(), "apparmor_parser", args, stdin)
	os.Stdout.Write(out)
	os.Stderr.Write(errb)
	if err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

func readAll(f *os.File) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(f)
	return b.Bytes(), err
}

func avc(t time.Time, serial int, profile, name string) string {
	return fmt.Sprintf("type=AVC msg=audit(%d.%03d:%d): apparmor=\"ALLOWED\" operation=\"open\" profile=\"%s\" name=\"%s\" pid=4242 comm=\"web\" requested_mask=\"r\" denied_mask=\"r\" fsuid=0 ouid=0\n",
		t.Unix(), t.Nanosecond()/1e6, serial, profile, name)
}

func TestRolloutWorkflow(t *testing.T) {
	e := newHostEnv(t)
	exe := filepath.Join(e.dir, "web")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))

	code, out, errs := e.run("init", "web", "--exec", exe)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "web: created "+filepath.Join(e.profiles, "web")+" (revision 1, complain mode), loaded in the kernel")
	assert.Equal(t, "web (complain)\n", e.kernel(t))

	code, _, errs = e.run("init", "web", "--exec", exe)
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "--force")

	// The gate: the window is new, so the default 24h refuses.
	log := filepath.Join(e.dir, "audit.log")
	require.NoError(t, os.WriteFile(log, nil, 0o644))
	code, _, errs = e.run("enforce", "web", "--from", log)
	assert.Equal(t, exitRefused, code, errs)
	assert.Contains(t, errs, "shorter than --quiet-for 24h0m0s")

	// An uncovered record since the last apply refuses too, naming it.
	now := time.Now()
	require.NoError(t, os.WriteFile(log, []byte(avc(now.Add(-time.Hour), 1, "web", "/etc/old")+avc(now.Add(time.Second), 2, "web", "/etc/secret")+avc(now.Add(time.Second), 3, "web", exe)), 0o644))
	code, _, errs = e.run("enforce", "web", "--from", log, "--quiet-for", "0s")
	assert.Equal(t, exitRefused, code, errs)
	assert.Contains(t, errs, "1 of 2 records for web")
	assert.Contains(t, errs, "/etc/secret")
	assert.NotContains(t, errs, "/etc/old", "records before the last apply do not count")
	assert.Contains(t, errs, "aa-flow learn web")

	// A program web ran without an exec rule shows up as a null- child in
	// complain mode: not covered either.
	require.NoError(t, os.WriteFile(log, []byte(avc(now.Add(time.Second), 4, "web//null-/usr/bin/curl", "/etc/hosts")+avc(now.Add(time.Second), 3, "web", exe)), 0o644))
	code, _, errs = e.run("enforce", "web", "--from", log, "--quiet-for", "0s")
	assert.Equal(t, exitRefused, code, errs)
	assert.Contains(t, errs, "1 of 2 records for web")
	assert.Contains(t, errs, "web//null-/usr/bin/curl")

	code, out, _ = e.run("status", "web", "--from", log, "--quiet-for", "0s", "--json")
	require.Equal(t, exitRefused, code, "status NAME says the gate would refuse")
	var st struct {
		AppArmor bool
		Profiles []rollout.Status
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st))
	require.Len(t, st.Profiles, 1)
	assert.True(t, st.AppArmor)
	assert.Equal(t, "complain", st.Profiles[0].Stage)
	require.NotNil(t, st.Profiles[0].Gate)
	assert.Equal(t, 1, st.Profiles[0].Gate.Uncovered)

	// A dry run changes nothing and says what it would do.
	code, out, errs = e.run("enforce", "web", "--force", "--dry-run")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "dry-run: would run: "+e.parser+" -I "+e.profiles+" -r -W "+filepath.Join(e.profiles, "web"))
	assert.Equal(t, "web (complain)\n", e.kernel(t))

	// Covered records only, but a log without the kernel's record of the
	// load that started the window (rotated away, another source): no
	// evidence, so the gate refuses.
	require.NoError(t, os.WriteFile(log, []byte(avc(now.Add(time.Second), 3, "web", exe)), 0o644))
	code, _, errs = e.run("enforce", "web", "--from", log, "--quiet-for", "0s")
	assert.Equal(t, exitRefused, code, errs)
	assert.Contains(t, errs, "no evidence for the window: "+log+" hold no kernel record of the load of web")
	code, out, _ = e.run("status", "web", "--from", log, "--quiet-for", "0s")
	assert.Equal(t, exitRefused, code)
	assert.Contains(t, out, "evidence none")

	// Covered records in the log the kernel's records go to: enforce,
	// confirmed from the kernel's list.
	klog := filepath.Join(e.secfs, "audit.log")
	require.NoError(t, os.WriteFile(klog, []byte(e.loads(t)+avc(now.Add(time.Second), 3, "web", exe)), 0o644))
	code, out, errs = e.run("enforce", "web", "--from", klog, "--quiet-for", "0s")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "web: enforce mode, confirmed by the kernel")
	assert.Equal(t, "web (enforce)\n", e.kernel(t))

	code, out, _ = e.run("history", "web")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "enforce: gate passed")
	assert.Contains(t, out, "*2")

	code, out, errs = e.run("rollback", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "rollback to revision 1, now revision 3 (complain mode)")
	assert.Equal(t, "web (complain)\n", e.kernel(t))

	code, _, errs = e.run("disable", "web")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "", e.kernel(t))
	code, out, _ = e.run("status", "web")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "web: disabled")
	code, _, errs = e.run("enable", "web")
	require.Equal(t, 0, code, errs)
	assert.Equal(t, "web (complain)\n", e.kernel(t))

	code, out, errs = e.run("complain", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "complain mode")

	code, out, errs = e.run("export", "web", "--docker")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "--security-opt apparmor=web")
	assert.Contains(t, out, "NOTE: web is in complain mode")
	code, _, _ = e.run("export", "web")
	assert.Equal(t, exitUsage, code)
}

func TestWithoutAppArmor(t *testing.T) {
	e := newHostEnv(t)
	e.secfs = filepath.Join(e.dir, "no-securityfs")
	code, _, errs := e.run("init", "web", "--exec", "/usr/bin/web", "--force")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "AppArmor is not enabled in this kernel")
	assert.Contains(t, errs, "--no-load")

	code, out, errs := e.run("init", "web", "--exec", "/usr/bin/web", "--no-load", "--force")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "not loaded (--no-load)")

	code, out, _ = e.run("status")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "kernel: AppArmor is not enabled in this kernel")
	assert.Contains(t, out, "web: complain")

	code, _, errs = e.run("enforce", "web", "--force")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "AppArmor is not enabled")
	code, out, errs = e.run("enforce", "web", "--force", "--no-load")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "web: enforce mode in the profile file; not loaded (--no-load)")
	code, _, _ = e.run("export", "web", "--systemd")
	assert.Equal(t, 0, code)
}

func TestInitTemplatesAndAdopt(t *testing.T) {
	e := newHostEnv(t)
	script := filepath.Join(e.dir, "job.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh -e\nexit 0\n"), 0o755))
	code, _, errs := e.run("init", "job", "--exec", script, "--template", "script", "--no-load")
	require.Equal(t, 0, code, errs)
	b, err := os.ReadFile(filepath.Join(e.profiles, "job"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "/bin/sh ix,")
	assert.Contains(t, string(b), script+" r,")

	code, _, _ = e.run("init", "x", "--exec", "/bin/x", "--template", "nope")
	assert.Equal(t, exitUsage, code)
	code, _, _ = e.run("init", "x")
	assert.Equal(t, exitUsage, code)

	dn := filepath.Join(e.profiles, "usr.sbin.dnsmasq")
	src, err := os.ReadFile("/etc/apparmor.d/usr.sbin.dnsmasq")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dn, src, 0o644))
	code, out, errs := e.run("init", "dnsmasq", "--adopt", "--file", dn)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "adopted")
	code, out, _ = e.run("history", "dnsmasq")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "adopted "+dn)
}

// --json is honoured by the commands that change the host: one JSON
// document on stdout, dry-run lines on stderr; --quiet prints nothing.
func TestJSONAndQuietResults(t *testing.T) {
	e := newHostEnv(t)
	code, out, errs := e.run("--json", "init", "web", "--exec", "/usr/bin/web", "--force")
	require.Equal(t, 0, code, errs)
	var r actionResult
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, actionResult{Profile: "web", Action: "created", Loaded: true, Revision: r.Revision}, r)
	require.NotNil(t, r.Revision)
	assert.Equal(t, 1, r.Revision.N)

	code, out, errs = e.run("-q", "complain", "web")
	require.Equal(t, 0, code, errs)
	assert.Empty(t, out)
	code, out, errs = e.run("--json", "enforce", "web", "--force")
	require.Equal(t, 0, code, errs)
	assert.True(t, json.Valid([]byte(out)), out)

	code, out, errs = e.run("--json", "rollback", "web", "--dry-run")
	require.Equal(t, 0, code, errs)
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, "rollback", r.Action)
	assert.True(t, r.DryRun)
	assert.Contains(t, errs, "dry-run")
}

// rollback without --to goes where its help says: one step back from the
// file's revision, and after a rollback from the revision it reinstated.
func TestRollbackGoesBack(t *testing.T) {
	e := newHostEnv(t)
	code, _, errs := e.run("init", "web", "--exec", "/usr/bin/web", "--force")
	require.Equal(t, 0, code, errs) // 1 complain
	code, _, errs = e.run("enforce", "web", "--force")
	require.Equal(t, 0, code, errs) // 2 enforce
	code, _, errs = e.run("complain", "web")
	require.Equal(t, 0, code, errs) // 3 complain (the text of 1)
	code, out, errs := e.run("rollback", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "rollback to revision 2, now revision 4 (enforce mode)")
	code, out, errs = e.run("rollback", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "rollback to revision 1, now revision 5 (complain mode)")
	code, _, errs = e.run("rollback", "web")
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "nothing earlier")
}

// apply --json's revision is the one the store recorded, every field of it;
// when nothing is written (a dry run, every rule already in the file) there
// is no revision object.
func TestApplyJSONRevision(t *testing.T) {
	e := newHostEnv(t)
	exe := filepath.Join(e.dir, "web")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	code, _, errs := e.run("init", "web", "--exec", exe)
	require.Equal(t, 0, code, errs)
	log := filepath.Join(e.dir, "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(avc(time.Now(), 1, "web", "/etc/web.conf")), 0o644))
	code, _, errs = e.run("learn", "web", "--from", log)
	require.Equal(t, exitNew, code, errs)

	code, out, errs := e.run("--json", "apply", "web", "--all", "--dry-run")
	require.Equal(t, 0, code, errs)
	assert.NotContains(t, out, `"revision"`, "a dry run stores no revision")

	code, out, errs = e.run("--json", "apply", "web", "--all")
	require.Equal(t, 0, code, errs)
	var got struct {
		Revision *struct {
			N      int       `json:"n"`
			Time   time.Time `json:"time"`
			Reason string    `json:"reason"`
			Mode   string    `json:"mode"`
			User   string    `json:"user"`
			SHA256 string    `json:"sha256"`
			Path   string    `json:"path"`
		} `json:"revision"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	require.NotNil(t, got.Revision, out)
	r := got.Revision
	assert.Equal(t, 2, r.N)
	assert.Equal(t, filepath.Join(e.profiles, "web"), r.Path)
	assert.Equal(t, "complain", r.Mode)
	assert.Equal(t, "learn: 1 rule(s) applied", r.Reason)
	assert.NotEmpty(t, r.User)
	assert.WithinDuration(t, time.Now(), r.Time, time.Minute)
	text, err := os.ReadFile(r.Path)
	require.NoError(t, err)
	assert.Equal(t, store.SHA256Hex(text), r.SHA256, "the hash of the text written")
	stored, err := os.ReadFile(filepath.Join(e.state, "web", "revisions", "0002.json"))
	require.NoError(t, err)
	assert.Contains(t, string(stored), `"sha256": "`+r.SHA256+`"`, "the revision as the store records it")
}

// Which revision rollback returns to is shown before it happens (status,
// rollback --dry-run), and a rollback that puts a complain-mode profile back
// in enforce mode (rollback after complain) says so.
func TestRollbackTargetShown(t *testing.T) {
	e := newHostEnv(t)
	exe := filepath.Join(e.dir, "web")
	require.NoError(t, os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755))
	code, _, errs := e.run("init", "web", "--exec", exe)
	require.Equal(t, 0, code, errs)
	_, out, _ := e.run("status", "web")
	assert.NotContains(t, out, "rollback:", "revision 1 has nothing before it")
	log := filepath.Join(e.dir, "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(avc(time.Now(), 1, "web", "/etc/web.conf")), 0o644))
	code, _, errs = e.run("learn", "web", "--from", log)
	require.Equal(t, exitNew, code, errs)
	for _, args := range [][]string{{"apply", "web", "--all"}, {"enforce", "web", "--force"}, {"complain", "web"}} {
		code, _, errs = e.run(args...)
		require.Equal(t, 0, code, "%v: %s", args, errs)
	}
	// 1 init, 2 apply, 3 enforce, 4 complain (the text of 2): one step
	// back from 4 is 3, the enforce revision.
	_, out, _ = e.run("status", "web", "--from", log)
	assert.Contains(t, out, "revision 4 of 4")
	assert.Contains(t, out, "rollback: would reinstate revision 3 (enforce mode, enforce: --force, gate skipped)")
	_, out, _ = e.run("status", "web", "--from", log, "--json")
	var st struct {
		Profiles []rollout.Status `json:"profiles"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &st), out)
	require.Len(t, st.Profiles, 1)
	require.NotNil(t, st.Profiles[0].RollbackTo)
	assert.Equal(t, 3, st.Profiles[0].RollbackTo.N)
	assert.Equal(t, "enforce", st.Profiles[0].RollbackTo.Mode)

	code, out, errs = e.run("rollback", "web", "--dry-run")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "web: rollback would reinstate revision 3 (enforce mode, enforce: --force, gate skipped) as a new revision")
	assert.Contains(t, errs, "warning: web is in complain mode and revision 3 is in enforce mode: the rollback enforces it again, without the gate")
	assert.Contains(t, errs, "aa-flow history web lists the revisions, rollback --to N reinstates another")
	assert.Equal(t, "web (complain)\n", e.kernel(t), "a dry run changes nothing")
	code, out, errs = e.run("--json", "rollback", "web", "--dry-run")
	require.Equal(t, 0, code, errs)
	var dr struct {
		Revision   *json.RawMessage `json:"revision"`
		RollbackTo struct {
			N    int    `json:"n"`
			Mode string `json:"mode"`
		} `json:"rollback_to"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &dr), out)
	assert.Nil(t, dr.Revision, "a dry run stores no revision: %s", out)
	assert.Equal(t, 3, dr.RollbackTo.N)
	assert.Equal(t, "enforce", dr.RollbackTo.Mode)
	code, out, errs = e.run("--json", "complain", "web", "--dry-run")
	require.Equal(t, 0, code, errs)
	assert.NotContains(t, out, `"revision"`, "no zero-valued revision on a dry run")

	code, out, errs = e.run("rollback", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "web: rollback to revision 3, now revision 5 (enforce mode)")
	assert.Contains(t, errs, "revision 3 is in enforce mode")
	assert.Equal(t, "web (enforce)\n", e.kernel(t))

	// From enforce, back to complain: the direction that denies less, no
	// warning.
	code, out, errs = e.run("rollback", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "rollback to revision 2, now revision 6 (complain mode)")
	assert.NotContains(t, errs, "warning")
}
