package learn

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/loggen"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

const myappdProfile = `abi <abi/3.0>,
include <tunables/global>

profile /usr/sbin/myappd flags=(complain) {
  include <abstractions/base>
}
`

// genEnv is a profile file and a state directory for name.
func genEnv(t *testing.T, profile string) (Options, ApplyOptions, string) {
	t.Helper()
	d := t.TempDir()
	dirs := Dirs{ProfileDir: filepath.Join(d, "apparmor.d"), StateDir: filepath.Join(d, "state")}
	path := filepath.Join(d, "svc.profile")
	require.NoError(t, os.WriteFile(path, []byte(profile), 0o644))
	return Options{Dirs: dirs, ProfileFile: path}, ApplyOptions{Dirs: dirs, NoLoad: true}, path
}

func writeLog(t *testing.T, opt loggen.Options) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), fmt.Sprintf("day%d.log", opt.Day))
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	opt.Format = loggen.AuditLog
	_, err = loggen.Write(w, opt)
	require.NoError(t, err)
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return path
}

// learnYes is learn --yes: learn from log, apply every rule --all takes.
func learnYes(t *testing.T, name string, o Options, ao ApplyOptions, log string) *propose.Proposal {
	t.Helper()
	ctx := context.Background()
	o.From, o.FromStart = []string{log}, true
	res, err := Learn(ctx, name, o)
	require.NoError(t, err)
	if len(res.Proposal.Rules) == 0 {
		return res.Proposal
	}
	d, err := res.Proposal.Decide(propose.Selection{All: true})
	require.NoError(t, err)
	_, err = Apply(ctx, ao, res.Target, res.Proposal, d)
	require.NoError(t, err)
	return res.Proposal
}

// The "done when": a service whose names change from run to run
// (temp dirs, a data tree, numbered state files, /proc/PID, epoch
// archives, mktemp and uuid names) is learned from one day's 200,000
// records into at most 40 rules that compile, and the next days of the
// same service, with new pids and new names, need no new rule.
func TestLearnVolatileService(t *testing.T) {
	o, ao, path := genEnv(t, myappdProfile)
	const name = "/usr/sbin/myappd"
	day := func(n, records int) string {
		return writeLog(t, loggen.Options{Records: records, Seed: 1, Workload: loggen.Volatile, Day: n, EnforceAt: 1})
	}
	prop := learnYes(t, name, o, ao, day(1, 200000))
	assert.LessOrEqual(t, len(prop.Rules), 40, "rules to review")
	assert.Positive(t, len(prop.Rules))
	assert.Empty(t, prop.Held(), "nothing this service does is rated 9-10")
	compiles(t, path)
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, want := range []string{
		"owner /tmp/myapp-[0-9]*/worker.sock rw,",
		"owner /var/backups/myapp/archive-[0-9]*.tar.gz w,",
		"owner /var/lib/myapp/data/[0-9a-f]*/[0-9a-f]* rw,",
		"owner @{HOME}/.local/state/myapp/state-[0-9]*.json rw,",
		"owner @{PROC}/@{pid}/stat r,",
	} {
		assert.Contains(t, string(src), want)
	}
	assert.NotContains(t, string(src), "/tmp/**")

	for n, records := range map[int]int{2: 200000, 3: 20000} {
		o.Check = true
		o.From, o.FromStart = []string{day(n, records)}, true
		res, err := Learn(context.Background(), name, o)
		require.NoError(t, err)
		assert.Empty(t, res.Proposal.Rules, "day %d: new pids and names need no new rule", n)
		assert.Equal(t, records, res.Proposal.Counts.Covered, "day %d", n)
	}
}

// sensitive are paths of the classes a learned pattern must never reach
// unless a record of the class was there: root's home, another user's
// files and secrets, ssh and gpg keys, password hashes, another
// process's memory and environment, the profile tree.
var sensitive = []string{
	"/root/.config/tool/token",
	"/home/zed/.config/tool/token",
	"/home/zed/.ssh/id_rsa",
	"/home/zed/.gnupg/private-keys-v1.d/k.key",
	"/etc/shadow",
	"/proc/1/mem",
	"/proc/1/environ",
	"/etc/apparmor.d/usr.sbin.myappd",
}

// class is the sensitive class of a path: the probe it stands for.
func class(path string) string {
	switch {
	case strings.HasPrefix(path, "/root/"):
		return "/root/.config/tool/token"
	case strings.Contains(path, "/.ssh/"):
		return "/home/zed/.ssh/id_rsa"
	case strings.Contains(path, "/.gnupg/"):
		return "/home/zed/.gnupg/private-keys-v1.d/k.key"
	case strings.HasPrefix(path, "/proc/") && strings.HasSuffix(path, "/mem"):
		return "/proc/1/mem"
	case strings.HasPrefix(path, "/proc/") && strings.HasSuffix(path, "/environ"):
		return "/proc/1/environ"
	}
	return path
}

// A record never yields a rule --yes takes that reaches a class of
// sensitive path the record did not, and the ordinary rules of the same
// log are still learned.
func TestLearnNeverWiderInRisk(t *testing.T) {
	type rec struct {
		path, mask  string
		fsuid, ouid int
	}
	ordinary := []rec{{"/etc/myapp/myapp.conf", "r", 0, 0}, {"/var/log/myapp/myapp.log", "w", 0, 0}}
	cases := []struct {
		name    string
		records []rec
		want    []string // rules --yes writes, besides the ordinary ones
		held    int      // rules --yes leaves pending
	}{
		{"a root service reads one user's token", []rec{{"/home/dana/.config/tool/token", "r", 0, 1000}},
			[]string{"/home/dana/.config/tool/token r,"}, 0},
		{"a root service reads two users' tokens", []rec{{"/home/dana/.config/tool/token", "r", 0, 1000}, {"/home/erik/.config/tool/token", "r", 0, 1001}},
			// /home/*/ would reach every other user's: rated higher, so
			// the literals stay.
			[]string{"/home/dana/.config/tool/token r,", "/home/erik/.config/tool/token r,"}, 0},
		// @{PROC}/@{pid}/mem reaches every process's memory (rated 10),
		// far more than the one process the record read: held.
		{"one /proc/PID/mem read", []rec{{"/proc/4242/mem", "r", 0, 0}},
			nil, 1},
		{"one upload name", []rec{{"/srv/app/uploads/holiday.jpg", "r", 0, 0}},
			[]string{"owner /srv/app/uploads/holiday.jpg r,"}, 0},
		// owner @{HOME}/.ssh/id_rsa w is rated 9: held, the literal is
		// not written either.
		{"a user service writes its ssh key", []rec{{"/home/dana/.ssh/id_rsa", "w", 1000, 1000}},
			nil, 1},
		{"root's own file", []rec{{"/root/.config/tool/token", "r", 0, 0}},
			[]string{"owner /root/.config/tool/token r,"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prof := strings.ReplaceAll(myappdProfile, " flags=(complain)", "")
			o, ao, path := genEnv(t, prof)
			var b strings.Builder
			for i, r := range append(append([]rec(nil), ordinary...), tc.records...) {
				for k := 0; k < 3; k++ { // a few records each
					fmt.Fprintf(&b, `type=AVC msg=audit(1795341600.%03d:%d): apparmor="ALLOWED" operation="open" profile="/usr/sbin/myappd" name="%s" pid=%d comm="myappd" requested_mask="%s" denied_mask="%s" fsuid=%d ouid=%d`+"\n",
						i*3+k, 100+i*3+k, r.path, 4000+i, r.mask, r.mask, r.fsuid, r.ouid)
				}
			}
			log := filepath.Join(t.TempDir(), "audit.log")
			require.NoError(t, os.WriteFile(log, []byte(b.String()), 0o644))

			reached := func() map[string]bool {
				tg, err := LoadTarget(o.Dirs, "/usr/sbin/myappd", path)
				require.NoError(t, err)
				cov := NewCoverage(tg.File, parser.ForProfileDir(o.ProfileDir))
				out := map[string]bool{}
				for _, s := range sensitive {
					for _, perms := range []string{"r", "w"} {
						if cov.Covers("/usr/sbin/myappd", policy.Access{Class: policy.ClassFile, Path: s, Perms: perms, Owner: true}) {
							out[s+" "+perms] = true
						}
					}
				}
				return out
			}
			before := reached()
			prop := learnYes(t, "/usr/sbin/myappd", o, ao, log)
			compiles(t, path)
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			for _, w := range append([]string{"/etc/myapp/myapp.conf r,", "/var/log/myapp/myapp.log w,"}, tc.want...) {
				assert.Contains(t, string(src), w, "learned with --yes")
			}
			own := map[string]bool{}
			for _, r := range tc.records {
				own[class(r.path)] = true
			}
			for s := range reached() {
				probe := strings.Fields(s)[0]
				if !before[s] && !own[probe] {
					t.Errorf("--yes wrote a rule that reaches %s, which no record did:\n%s", s, src)
				}
			}
			assert.Len(t, prop.Held(), tc.held)
			for _, r := range prop.Held() {
				assert.NotContains(t, string(src), r.Text, "a held rule is not taken by --yes")
				assert.Contains(t, r.Held, "rated")
			}
		})
	}
}

// stampdRun is the records of one run of e2e's stampd (a mktemp work dir
// from Go's os.MkdirTemp, an epoch archive, a uuid job file), as the kernel
// logs them in complain mode.
func stampdRun(b *strings.Builder, serial int, tmp string, epoch int64, uuid string) {
	for i, r := range []struct{ op, name, mask string }{
		{"open", "/etc/stampd.conf", "r"},
		{"mkdir", "/tmp/stampd-" + tmp + "/", "c"},
		{"open", "/tmp/stampd-" + tmp + "/payload", "wc"},
		{"open", "/tmp/stampd-" + tmp + "/payload", "r"},
		{"open", fmt.Sprintf("/var/backups/stampd/archive-%d.tar.gz", epoch), "wc"},
		{"open", "/var/lib/stampd/jobs/" + uuid + ".json", "wc"},
		{"unlink", "/tmp/stampd-" + tmp + "/payload", "d"},
		{"rmdir", "/tmp/stampd-" + tmp + "/", "d"},
	} {
		fmt.Fprintf(b, `type=AVC msg=audit(%d.%03d:%d): apparmor="ALLOWED" operation="%s" profile="stampd" name="%s" pid=%d comm="stampd" requested_mask="%s" denied_mask="%s" fsuid=0 ouid=0`+"\n",
			epoch, i, serial+i, r.op, r.name, 700+serial, r.mask, r.mask)
	}
}

// e2e's volatile-names scenario in miniature: one learn over two runs of
// stampd gives rules that cover a third run's new names.
func TestLearnStampdRuns(t *testing.T) {
	o, ao, path := genEnv(t, strings.ReplaceAll(myappdProfile, "/usr/sbin/myappd", "stampd"))
	var two, third strings.Builder
	// os.MkdirTemp's names are decimal: some read as an epoch, some not.
	stampdRun(&two, 100, "3141592653", 1796551200, "0f8e4c2a-1b3d-4e5f-a6b7-c8d9e0f1a2b3")
	stampdRun(&two, 200, "27182818", 1796551202, "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d")
	stampdRun(&third, 300, "4294967295", 1796551204, "11223344-5566-4778-899a-abbccddeeff0")
	dir := t.TempDir()
	log1, log3 := filepath.Join(dir, "runs12.log"), filepath.Join(dir, "run3.log")
	require.NoError(t, os.WriteFile(log1, []byte(two.String()), 0o644))
	require.NoError(t, os.WriteFile(log3, []byte(third.String()), 0o644))

	prop := learnYes(t, "stampd", o, ao, log1)
	assert.Empty(t, prop.Held())
	compiles(t, path)
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, want := range []string{
		"/var/backups/stampd/archive-[0-9]*.tar.gz w,",
		"/tmp/stampd-[0-9]*/ w,",
		"/tmp/stampd-[0-9]*/payload rw,",
		"/var/lib/stampd/jobs/[0-9a-f]*-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*.json w,",
	} {
		assert.Contains(t, string(src), want)
	}
	o.Check = true
	o.From, o.FromStart = []string{log3}, true
	res, err := Learn(context.Background(), "stampd", o)
	require.NoError(t, err)
	assert.Empty(t, texts(res.Proposal), "the third run's new names are covered")
}
