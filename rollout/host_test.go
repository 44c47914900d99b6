package rollout

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/rollout/rollouttest"
	"github.com/aa-flow/aa-flow/store"
)

func needParser(t testing.TB) {
	t.Helper()
	_, err := exec.LookPath("apparmor_parser")
	require.NoError(t, err, "apparmor_parser is required (make deps)")
}

type env struct {
	host *Host
	kern *rollouttest.Kernel
	log  *bytes.Buffer
	path string
	// audit is what the host's kernel audit status reader returns: the
	// lost-record counter, or an error.
	audit struct {
		lost uint32
		err  error
	}
}

// newEnv builds a host over temp directories with a fake kernel and the
// profile "web" managed in ProfileDir/web.
func newEnv(t testing.TB) *env {
	t.Helper()
	needParser(t)
	d := t.TempDir()
	st := &store.Store{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state"), LockTimeout: time.Second}
	require.NoError(t, os.MkdirAll(st.ProfileDir, 0o755))
	k, err := rollouttest.New(filepath.Join(d, "sys"), ModeOf)
	require.NoError(t, err)
	log := &bytes.Buffer{}
	clock := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	h := &Host{
		Store:  st,
		Parser: &aaparser.Runner{Exec: k.Exec},
		Kernel: &kernel.FS{Securityfs: k.Securityfs},
		Log:    log,
		User:   "tester",
		Now: func() time.Time {
			clock = clock.Add(time.Minute)
			return clock
		},
	}
	path := filepath.Join(st.ProfileDir, "web")
	require.NoError(t, st.Manage(store.Meta{Name: "web", Profile: path}))
	e := &env{host: h, kern: k, log: log, path: path}
	h.AuditStatus = func() (kernel.AuditStatus, error) {
		return kernel.AuditStatus{Enabled: 1, Lost: e.audit.lost}, e.audit.err
	}
	return e
}

func profileText(flags string, rules ...string) []byte {
	var b bytes.Buffer
	b.WriteString("abi <abi/3.0>,\ninclude <tunables/global>\n\n")
	if flags != "" {
		flags = " flags=(" + flags + ")"
	}
	fmt.Fprintf(&b, "profile web /usr/bin/web%s {\n  include <abstractions/base>\n", flags)
	for _, r := range rules {
		fmt.Fprintf(&b, "  %s\n", r)
	}
	b.WriteString("  include if exists <local/web>\n}\n")
	return b.Bytes()
}

func TestInstallWritesRevisionAndLoads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := profileText("complain", "/usr/bin/web mr,")
	r1, err := e.host.Install(ctx, "web", v1, "init", true)
	require.NoError(t, err)
	assert.Equal(t, 1, r1.N)
	assert.Equal(t, "complain", r1.Mode)
	assert.Equal(t, "tester", r1.User)
	got, _ := os.ReadFile(e.path)
	assert.Equal(t, v1, got)
	assert.Equal(t, map[string]string{"web": "complain"}, e.kern.Loaded())
	require.Len(t, e.kern.Calls(), 1)
	assert.Equal(t, []string{"-r", "-W", e.path}, e.kern.Calls()[0])

	v2 := profileText("complain", "/usr/bin/web mr,", "/etc/web.conf r,")
	r2, err := e.host.Install(ctx, "web", v2, "apply 1 rule", true)
	require.NoError(t, err)
	assert.Equal(t, 2, r2.N)
	text, _, err := e.host.Store.ReadRevision("web", 1)
	require.NoError(t, err)
	assert.Equal(t, v1, text, "the replaced version is kept")

	j, err := e.host.Store.Journal("web")
	require.NoError(t, err)
	require.Len(t, j, 2)
	assert.Equal(t, store.EventInstall, j[1].Event)
	assert.Equal(t, 2, j[1].Revision)
}

func TestInstallKeepsHandEditedFile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, err := e.host.Install(ctx, "web", profileText("complain"), "init", false)
	require.NoError(t, err)
	hand := profileText("complain", "# edited by hand", "/srv/** r,")
	require.NoError(t, os.WriteFile(e.path, hand, 0o644))
	r, err := e.host.Install(ctx, "web", profileText("complain", "/tmp/x r,"), "apply", false)
	require.NoError(t, err)
	assert.Equal(t, 3, r.N)
	text, rev, err := e.host.Store.ReadRevision("web", 2)
	require.NoError(t, err)
	assert.Equal(t, hand, text)
	assert.Contains(t, rev.Reason, "found on disk")
	assert.Empty(t, e.kern.Calls(), "load=false never touches the kernel")
}

func TestInstallRejectsInvalidProfile(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := profileText("complain")
	_, err := e.host.Install(ctx, "web", v1, "init", true)
	require.NoError(t, err)
	_, err = e.host.Install(ctx, "web", []byte("profile web {\n  /etc/x r\n}\n"), "bad", true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "apparmor_parser compile")
	assert.Contains(t, err.Error(), "line 3", "the parser's own message")
	got, _ := os.ReadFile(e.path)
	assert.Equal(t, v1, got)
	revs, _ := e.host.Store.Revisions("web")
	assert.Len(t, revs, 1, "an invalid profile is never stored")
	assert.Len(t, e.kern.Calls(), 1)
}

func TestInstallFailedLoadRestores(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := profileText("complain")
	_, err := e.host.Install(ctx, "web", v1, "init", true)
	require.NoError(t, err)
	e.kern.FailLoad = "apparmor_parser: Unable to replace \"web\".  Permission denied; attempted to load a profile while confined?"
	_, err = e.host.Install(ctx, "web", profileText("complain", "/etc/x r,"), "apply", true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Permission denied; attempted to load a profile while confined?")
	got, _ := os.ReadFile(e.path)
	assert.Equal(t, v1, got, "previous file written back")
	// The restore tried to reload the previous file too (it fails here as
	// well, and says so).
	assert.Len(t, e.kern.Calls(), 3)
	assert.Contains(t, err.Error(), "reloading it failed too")
}

func TestInstallVerifyFailureRestores(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	v1 := profileText("complain")
	_, err := e.host.Install(ctx, "web", v1, "init", true)
	require.NoError(t, err)
	e.kern.StuckMode = "complain"
	_, err = e.host.Install(ctx, "web", profileText(""), "enforce", true)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the kernel reports web (complain), the file asks for (enforce)")
	assert.Contains(t, err.Error(), "restored and reloaded the previous version, revision 1")
	got, _ := os.ReadFile(e.path)
	assert.Equal(t, v1, got)
	j, _ := e.host.Store.Journal("web")
	assert.Equal(t, store.EventRestore, j[len(j)-1].Event)

	// The next change finds the file at revision 1 (not the failed 2) and
	// stores no "found on disk" copy of it.
	e.kern.StuckMode = ""
	r, err := e.host.Install(ctx, "web", profileText("complain", "/etc/y r,"), "apply", true)
	require.NoError(t, err)
	assert.Equal(t, 3, r.N)
	revs, _ := e.host.Store.Revisions("web")
	for _, rv := range revs {
		assert.NotContains(t, rv.Reason, "found on disk")
	}
}

func TestInstallFirstVersionFailsLeavesNothing(t *testing.T) {
	e := newEnv(t)
	e.kern.FailLoad = "no"
	_, err := e.host.Install(context.Background(), "web", profileText("complain"), "init", true)
	require.Error(t, err)
	assert.NoFileExists(t, e.path)
}

func TestInstallDryRun(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.host.DryRun = true
	r, err := e.host.Install(ctx, "web", profileText("complain"), "init", true)
	require.NoError(t, err)
	assert.Zero(t, r.N, "a dry run gives no revision number: only storing does")
	assert.Equal(t, "complain", r.Mode)
	assert.NoFileExists(t, e.path)
	assert.Empty(t, e.kern.Calls())
	revs, _ := e.host.Store.Revisions("web")
	assert.Empty(t, revs)
	out := e.log.String()
	assert.Contains(t, out, "dry-run: would write "+e.path)
	assert.Contains(t, out, "dry-run: would run: apparmor_parser -I "+e.host.Store.ProfileDir+" -r -W "+e.path)
}

func TestInstallWithoutAppArmor(t *testing.T) {
	e := newEnv(t)
	e.host.Kernel = &kernel.FS{Securityfs: filepath.Join(t.TempDir(), "none")}
	_, err := e.host.Install(context.Background(), "web", profileText("complain"), "init", true)
	require.ErrorIs(t, err, kernel.ErrNoAppArmor)
	assert.Contains(t, err.Error(), "--no-load")
	_, err = e.host.Install(context.Background(), "web", profileText("complain"), "init", false)
	require.NoError(t, err)
}

func TestInstallRefusesTextWithoutTheProfile(t *testing.T) {
	e := newEnv(t)
	_, err := e.host.Install(context.Background(), "web", []byte("profile other /usr/bin/other {\n}\n"), "x", false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `defines no profile "web" (it has "other")`)
	assert.NoFileExists(t, e.path)
}

func TestInstallThroughSymlink(t *testing.T) {
	e := newEnv(t)
	real := filepath.Join(t.TempDir(), "web.real")
	require.NoError(t, os.WriteFile(real, profileText("complain"), 0o644))
	require.NoError(t, os.Symlink(real, e.path))
	v2 := profileText("complain", "/etc/x r,")
	_, err := e.host.Install(context.Background(), "web", v2, "apply", false)
	require.NoError(t, err)
	target, err := os.Readlink(e.path)
	require.NoError(t, err, "the link stays a link")
	assert.Equal(t, real, target)
	assert.Equal(t, v2, mustRead(t, real))
}

func TestInstallUnmanaged(t *testing.T) {
	e := newEnv(t)
	_, err := e.host.Install(context.Background(), "other", profileText("complain"), "x", false)
	require.ErrorIs(t, err, store.ErrNotManaged)
}

// installSteps are the hook points of install, in order: the profile file's
// atomic write reports its own steps.
var installSteps = []string{"revision", "write:create", "write:write", "write:fsync", "write:rename", "write:fsync-dir", "write", "load", "journal"}

// TestInstallKilled kills a child process installing v2 over v1 after each
// step of install (and, through the store's own test, inside each write);
// the profile file must then be v1 or v2, whole, and compile.
func TestInstallKilled(t *testing.T) {
	if os.Getenv("AAFLOW_INSTALL_CHILD") != "" {
		return
	}
	needParser(t)
	for i, step := range installSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			v1 := profileText("complain")
			_, err := e.host.Install(context.Background(), "web", v1, "init", true)
			require.NoError(t, err)
			cmd := exec.Command(os.Args[0], "-test.run=^TestInstallChild$")
			cmd.Env = append(os.Environ(),
				"AAFLOW_INSTALL_CHILD="+strconv.Itoa(i),
				"AAFLOW_PROFILE_DIR="+e.host.Store.ProfileDir,
				"AAFLOW_STATE_DIR="+e.host.Store.StateDir,
				"AAFLOW_SECFS="+e.kern.Securityfs)
			err = cmd.Run()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "the child must die")
			require.True(t, ee.Sys().(syscall.WaitStatus).Signaled(), "killed by a signal: %v", err)
			got, err := os.ReadFile(e.path)
			require.NoError(t, err)
			v2 := profileText("", "/etc/web.conf r,")
			if i < 4 { // before the rename
				assert.Equal(t, v1, got)
			} else {
				assert.Equal(t, v2, got)
			}
			ents, err := os.ReadDir(e.host.Store.ProfileDir)
			require.NoError(t, err)
			for _, en := range ents {
				// A temporary file a kill leaves is a dotfile, which
				// apparmor's boot-time loading skips.
				assert.True(t, en.Name() == "web" || strings.HasPrefix(en.Name(), "."), en.Name())
			}
			require.NoError(t, e.host.Validate(context.Background(), "web", got))
			// The lock died with the child.
			unlock, err := e.host.Store.Lock("web")
			require.NoError(t, err)
			require.NoError(t, unlock())
			// Every listed revision reads back intact.
			revs, err := e.host.Store.Revisions("web")
			require.NoError(t, err)
			for _, r := range revs {
				_, _, err := e.host.Store.ReadRevision("web", r.N)
				require.NoError(t, err)
			}
		})
	}
}

// TestInstallChild is the child half of TestInstallKilled.
func TestInstallChild(t *testing.T) {
	n := os.Getenv("AAFLOW_INSTALL_CHILD")
	if n == "" {
		return
	}
	killAt, _ := strconv.Atoi(n)
	k, err := rollouttest.New(os.Getenv("AAFLOW_SECFS"), ModeOf)
	if err != nil {
		os.Exit(5)
	}
	h := &Host{
		Store:  &store.Store{ProfileDir: os.Getenv("AAFLOW_PROFILE_DIR"), StateDir: os.Getenv("AAFLOW_STATE_DIR")},
		Parser: &aaparser.Runner{Exec: k.Exec},
		Kernel: &kernel.FS{Securityfs: k.Securityfs},
		step: func(s string) {
			if s == installSteps[killAt] {
				_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		},
	}
	_, err = h.Install(context.Background(), "web", profileText("", "/etc/web.conf r,"), "apply", true)
	fmt.Fprintln(os.Stderr, "child not killed:", err)
	os.Exit(3)
}
