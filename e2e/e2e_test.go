// Package e2e holds aa-flow's end-to-end harness (shell scripts run on the
// host and in a qemu guest); this test checks, on the host, the parts that
// can be checked without a VM: the guest's check filters and the scenarios'
// structure. `make e2e` runs the real thing.
package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shell returns the guest's shell (busybox sh) when installed, else /bin/sh.
func shell() []string {
	if p, err := exec.LookPath("busybox"); err == nil {
		return []string{p, "sh"}
	}
	return []string{"/bin/sh"}
}

// check runs a function from guest/checks.sh with stdin and returns stdout.
func check(t *testing.T, script, stdin string, args ...string) string {
	t.Helper()
	sh := shell()
	argv := append(sh[1:], "-c", ". ./guest/checks.sh && "+script, "check")
	argv = append(argv, args...)
	cmd := exec.Command(sh[0], argv...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		err = nil // grep found nothing
	}
	require.NoError(t, err)
	return strings.TrimRight(string(out), "\n")
}

func TestBroadRules(t *testing.T) {
	tests := []struct {
		name, profile string
		broad         bool
	}{
		{"learned literals", `profile webd /usr/bin/webd {
  include <abstractions/base>
  /srv/www/** r,
  capability net_bind_service,
  network inet stream,
  signal (receive) set=(term) peer=unconfined,
}`, false},
		{"literals only", `profile webd /usr/bin/webd {
  /srv/www/index.html r,
  /srv/www/ r,
  owner /var/lib/webd/notes.txt w,
  capability net_bind_service,
  network inet stream,
  network inet6 stream,
}`, false},
		{"root glob", "profile x {\n  /** rw,\n}", true},
		{"root star", "profile x {\n  /* r,\n}", true},
		{"top-level tree", "profile x {\n  /etc/** r,\n}", true},
		{"owner top-level tree", "profile x {\n  owner /home/** rw,\n}", true},
		{"deeper tree", "profile x {\n  /etc/webd/** r,\n}", false},
		{"top-level directory", "profile x {\n  /etc/ r,\n}", false},
		{"quoted root glob", "profile x {\n  \"/**\" r,\n}", true},
		{"bare capability", "profile x {\n  capability,\n}", true},
		{"bare network", "profile x {\n  network ,\n}", true},
		{"audit bare network", "profile x {\n  audit network,\n}", true},
		{"bare file", "profile x {\n  file,\n}", true},
		{"bare signal", "profile x {\n  signal,\n}", true},
		{"comment only", "profile x {\n  # capability,\n  # /** rw,\n}", false},
		{"network with family", "profile x {\n  network unix stream,\n}", false},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			require.NoError(t, os.WriteFile(f, []byte(tt.profile+"\n"), 0o644))
			got := check(t, `broad_rules "$1"`, "", f)
			assert.Equal(t, tt.broad, got != "", "broad_rules printed %q", got)
		})
	}
}

func TestModeIn(t *testing.T) {
	profiles := `webd//null-/usr/bin/busybox (complain)
webd (enforce)
webdx (complain)
/usr/bin/man (enforce)
`
	f := filepath.Join(t.TempDir(), "profiles")
	require.NoError(t, os.WriteFile(f, []byte(profiles), 0o644))
	for name, want := range map[string]string{"webd": "enforce", "webdx": "complain", "nope": "", "/usr/bin/man": "enforce"} {
		assert.Equal(t, want, check(t, `mode_in "$1" "$2"`, "", name, f), name)
	}
}

func TestJSONMode(t *testing.T) {
	tests := map[string]string{
		`{"name":"webd","kernel_mode":"enforce","mode":"complain"}`: "enforce",
		"{\n  \"name\": \"webd\",\n  \"mode\": \"complain\"\n}":     "complain",
		`[{"name":"webd","stage":"enforce","mode": "enforce"}]`:     "enforce",
		`{"name":"webd"}`: "",
	}
	for in, want := range tests {
		assert.Equal(t, want, check(t, "json_mode", in), in)
	}
}

func TestCountDenied(t *testing.T) {
	log := `type=AVC msg=audit(1.0:1): apparmor="DENIED" operation="open" profile="webd" name="/etc/shadow"
type=AVC msg=audit(1.0:2): apparmor="ALLOWED" operation="open" profile="webd" name="/etc/hostname"
[ 3.1] audit: type=1400 audit(1.0:3): apparmor="DENIED" operation="exec" profile="webd//null-/usr/bin/busybox" name="/x"
[ 3.2] audit: type=1400 audit(1.0:4): apparmor="DENIED" operation="open" profile="webdx" name="/etc/shadow"
`
	assert.Equal(t, "2", check(t, `count_denied webd`, log))
	assert.Equal(t, "0", check(t, `count_denied other`, log))
}

// TestScenarios checks every scenario's shape: what e2e/run and the guest
// flow rely on.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("scenarios/*")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(dirs), 3)
	sources := map[string]bool{}
	sdjournal := false
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			conf := readConf(t, filepath.Join(d, "scenario.conf"))
			_, err := os.Stat(filepath.Join(d, "flow"))
			ownFlow := err == nil
			keys := []string{"NAME", "SOURCE", "FORBIDDEN_MATCH"}
			if !ownFlow {
				keys = append(keys, "EXEC") // the standard flow attaches the profile to EXEC
			}
			for _, k := range keys {
				assert.NotEmpty(t, conf[k], "scenario.conf sets %s", k)
			}
			assert.Contains(t, []string{"kmsg", "syslog", "journald", "auditd"}, conf["SOURCE"])
			sources[conf["SOURCE"]] = true
			if conf["AA_FLOW"] != "" {
				assert.Equal(t, "aa-flow-sdjournal", conf["AA_FLOW"], "AA_FLOW names a binary the harness builds")
				sdjournal = sdjournal || conf["SOURCE"] == "journald"
			}
			files := []string{"workload", "forbidden"}
			if ownFlow {
				files = []string{"flow"}
			}
			for _, f := range files {
				st, err := os.Stat(filepath.Join(d, f))
				if assert.NoError(t, err) {
					assert.NotZero(t, st.Mode()&0o111, "%s is executable", f)
				}
			}
			for _, p := range strings.Fields(conf["PROGRAMS"]) {
				assert.DirExists(t, filepath.Join("cmd", p), "PROGRAMS names e2e/cmd/%s", p)
			}
			if conf["EXEC"] == "" {
				return // a flow of its own that confines no host program (docker run)
			}
			_, inRoot := os.Stat(filepath.Join(d, "root", conf["EXEC"]))
			isProgram := strings.Contains(" "+conf["PROGRAMS"]+" ", " "+filepath.Base(conf["EXEC"])+" ")
			assert.True(t, inRoot == nil || isProgram, "EXEC %s is in root/ or is one of PROGRAMS", conf["EXEC"])
		})
	}
	assert.Equal(t, map[string]bool{"kmsg": true, "syslog": true, "journald": true, "auditd": true}, sources, "every record source is used by a scenario")
	assert.True(t, sdjournal, "a journald scenario uses the sd-journal build")
}

// readConf reads KEY=value lines of a scenario.conf (comments and quotes removed).
func readConf(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	conf := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		require.True(t, ok, "%s: %q is not KEY=value", path, line)
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		conf[k] = strings.Trim(strings.TrimSpace(v), `"'`)
	}
	require.NoError(t, sc.Err())
	return conf
}
