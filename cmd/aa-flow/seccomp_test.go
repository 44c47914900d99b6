package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/seccomp"
)

type seccompEnv struct{ state string }

func (e seccompEnv) run(stdin string, args ...string) (int, string, string) {
	var out, errb strings.Builder
	code := run(append([]string{"--state-dir", e.state, "seccomp"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// inspectWith is docker inspect JSON of a container whose security options
// inline profile as the docker CLI does (compacted).
func inspectWith(t *testing.T, profile []byte) string {
	var c bytes.Buffer
	require.NoError(t, json.Compact(&c, profile))
	b, err := json.Marshal([]map[string]any{{"Name": "/web", "HostConfig": map[string]any{"SecurityOpt": []string{"apparmor=web", "seccomp=" + c.String()}}}})
	require.NoError(t, err)
	return string(b)
}

func TestSeccompCommands(t *testing.T) {
	e := seccompEnv{state: t.TempDir()}
	code, out, errs := e.run("", "init", "web")
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "revision 1 (log)")
	path := filepath.Join(e.state, "web", "seccomp.json")
	assert.Contains(t, out, "--security-opt seccomp="+path)
	code, _, errs = e.run("", "init", "web")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "--force")

	code, out, _ = e.run("", "status", "web")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "web: log, revision 1")

	learning, err := os.ReadFile(path)
	require.NoError(t, err)
	code, out, _ = e.run(inspectWith(t, learning), "verify", "web", "--inspect", "-")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "✓ web: runs web's seccomp profile, revision 1 (log)")

	// The gate: no record in the window refuses (exit 4); --force refuses
	// too while nothing is learned.
	empty := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	code, _, errs = e.run("", "enforce", "web", "--from", empty, "--quiet-for", "0s")
	assert.Equal(t, 4, code, errs)
	assert.Contains(t, errs, "no SECCOMP record in the window")
	code, _, errs = e.run("", "enforce", "web", "--force")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "nothing learned")

	code, out, _ = e.run("", "rollback", "web", "--default")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "revision 2 (default)")
	code, out, _ = e.run(inspectWith(t, learning), "verify", "web", "--inspect", "-")
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "recreate the container")
	code, _, _ = e.run("", "rollback", "web")
	assert.Equal(t, 0, code)
	code, out, _ = e.run(inspectWith(t, learning), "verify", "web", "--inspect", "-")
	assert.Equal(t, 0, code, out)

	code, _, _ = e.run("", "verify", "web")
	assert.Equal(t, 2, code)
	code, _, errs = e.run("", "status", "other")
	assert.Equal(t, 1, code)
	assert.Contains(t, errs, "aa-flow seccomp init")
}

// seccompLog writes SECCOMP records, as auditd logs them, of the calls
// named, at t, labelled with the AppArmor profile subj.
func seccompLog(t *testing.T, path string, at time.Time, subj string, calls ...int) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	defer f.Close()
	for i, nr := range calls {
		fmt.Fprintf(f, "type=SECCOMP msg=audit(%d.%03d:%d): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=%s pid=321 comm=\"sh\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=%d compat=0 ip=0x7f3c012e467b code=0x7ffc0000\n",
			at.Unix(), i, at.Unix()%100000*100+int64(i), subj, nr)
	}
}

func TestSeccompLearnEnforce(t *testing.T) {
	e := seccompEnv{state: t.TempDir()}
	log := filepath.Join(t.TempDir(), "audit.log")
	code, _, errs := e.run("", "init", "web")
	require.Equal(t, 0, code, errs)
	now := time.Now()
	// read, write, openat, execve, exit_group; and another container's ptrace.
	seccompLog(t, log, now.Add(time.Minute), "web (complain)", 0, 1, 257, 59, 231, 0)
	seccompLog(t, log, now.Add(time.Minute), "other (enforce)", 101)
	// runc's init, under the container's filter before the exec, labelled
	// with runc's profile: the Debian 13 guest's record
	// (testdata/corpus/kernel/docker/debian-13-seccomp.log), dated now.
	f, err := os.OpenFile(log, os.O_APPEND|os.O_WRONLY, 0o644)
	require.NoError(t, err)
	fmt.Fprintf(f, "type=SECCOMP msg=audit(%d.500:77): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=runc pid=321 comm=\"runc:[2:INIT]\" exe=2F6D656D66643A72756E635F636C6F6E65643A2F70726F632F73656C662F657865202864656C6574656429 sig=0 arch=c000003e syscall=138 compat=0 ip=0x41036e code=0x7ffc0000\n", now.Add(time.Minute).Unix())
	// Another container's process that names itself runc's init: its pid
	// never runs under web, so its mknod is not web's.
	fmt.Fprintf(f, "type=SECCOMP msg=audit(%d.600:78): auid=4294967295 uid=0 gid=0 ses=4294967295 subj=docker-default pid=999 comm=\"runc:[2:INIT]\" exe=\"/bin/busybox\" sig=0 arch=c000003e syscall=133 compat=0 ip=0x41036e code=0x7ffc0000\n", now.Add(time.Minute).Unix())
	require.NoError(t, f.Close())
	// The exec: runc's init's process, pid 321, now under web (a second
	// later: the same stamp and serial would be the same event).
	seccompLog(t, log, now.Add(time.Minute+time.Second), "web (complain)", 0)

	code, out, errs := e.run("", "learn", "web", "--from", log, "--check")
	assert.Equal(t, 3, code, errs)
	assert.Contains(t, out, "seccomp web: 8 record(s), 6 syscall(s) seen, 8 new; kept without a record: restart_syscall, rt_sigreturn\n")
	assert.NotContains(t, out, `"mknod"`, "a comm is the process's own: runc's init only when its process goes on under web")
	assert.Contains(t, errs, "1 record(s) said comm=runc:[2:INIT] but their process was never seen under web")
	assert.Contains(t, out, `+ "rt_sigreturn",  # no record, kept: the return from a signal handler`, "the diff says why")
	assert.Contains(t, out, `+ "fstatfs",`, "runc init's calls under the container's filter are learned")
	assert.Regexp(t, `\+ "fstatfs",  # 1×, first \S+ comm=runc:\[2:INIT\] \(\S+\); container runtime: only runc's init called it`, out, "and shown as the runtime's")
	assert.NotRegexp(t, `"read",.*container runtime`, out, "a call the application made too is the application's")
	assert.Contains(t, out, `+ "read",  # 3×`)
	assert.NotContains(t, out, "ptrace", "another label's records are not this container's")
	var jl, jle strings.Builder
	code = run([]string{"--state-dir", e.state, "--json", "seccomp", "learn", "web", "--from", log, "--check"}, strings.NewReader(""), &jl, &jle)
	assert.Equal(t, 3, code, jle.String())
	var learned struct {
		Proposal struct {
			Add []struct {
				Name  string `json:"name"`
				Count int    `json:"count"`
				Kept  string `json:"kept"`
			} `json:"add"`
		} `json:"proposal"`
	}
	require.NoError(t, json.Unmarshal([]byte(jl.String()), &learned), jl.String())
	kept := map[string]string{}
	for _, a := range learned.Proposal.Add {
		if a.Kept != "" {
			assert.Zero(t, a.Count, a.Name)
			kept[a.Name] = a.Kept
		}
	}
	assert.Equal(t, seccomp.KeptWithoutRecords, kept, "--json names the calls kept without a record, and why")

	code, _, errs = e.run("", "learn", "web", "--from", log, "--yes")
	assert.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "8 syscall(s) learned in all")
	code, out, _ = e.run("", "learn", "web", "--from", log, "--check")
	assert.Equal(t, 0, code, out)
	code, out, _ = e.run("", "learn", "web", "--from", log, "--all-subjects", "--check")
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, `+ "ptrace",`, "--all-subjects takes every label's records")

	// After the apply: the workload again, nothing new; the gate passes.
	seccompLog(t, log, now.Add(2*time.Minute), "web (complain)", 0, 1, 231)
	// With --json, one document: the gate's report and the revision.
	var jout, jerr strings.Builder
	code = run([]string{"--state-dir", e.state, "--json", "seccomp", "enforce", "web", "--from", log, "--quiet-for", "0s"}, strings.NewReader(""), &jout, &jerr)
	require.Equal(t, 0, code, jerr.String())
	dec := json.NewDecoder(strings.NewReader(jout.String()))
	var doc struct {
		Pass     bool `json:"pass"`
		Revision struct {
			N    int    `json:"n"`
			Mode string `json:"mode"`
		} `json:"revision"`
	}
	require.NoError(t, dec.Decode(&doc))
	assert.False(t, dec.More(), "one JSON document: %s", jout.String())
	assert.True(t, doc.Pass)
	assert.Equal(t, 2, doc.Revision.N)
	assert.Equal(t, "enforce", doc.Revision.Mode)
	b, err := os.ReadFile(filepath.Join(e.state, "web", "seccomp.json"))
	require.NoError(t, err)
	assert.Contains(t, string(b), `"read"`)
	assert.NotContains(t, string(b), `"ptrace"`)
	assert.NotContains(t, string(b), "SCMP_ACT_LOG")
	code, out, _ = e.run("", "status", "web")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "web: enforce, revision 2")
}

// seccomp verify --json prints one JSON document, whether the container runs
// the profile or not (exit 1 then), and its errors as {"error", "exit"}.
func TestSeccompVerifyJSON(t *testing.T) {
	e := seccompEnv{state: t.TempDir()}
	code, _, errs := e.run("", "init", "web")
	require.Equal(t, 0, code, errs)
	learning, err := os.ReadFile(filepath.Join(e.state, "web", "seccomp.json"))
	require.NoError(t, err)
	other := inspectWith(t, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[]}`))
	unconfined := `[{"Name":"/db","HostConfig":{"SecurityOpt":["seccomp=unconfined"]}}]`

	type container struct {
		Name   string `json:"name"`
		OK     bool   `json:"ok"`
		SHA256 string `json:"sha256"`
		Detail string `json:"detail"`
	}
	type doc struct {
		Profile    string      `json:"profile"`
		Revision   int         `json:"revision"`
		Mode       string      `json:"mode"`
		SHA256     string      `json:"sha256"`
		OK         bool        `json:"ok"`
		Containers []container `json:"containers"`
	}
	for _, tc := range []struct {
		name, inspect string
		code          int
		ok            bool
		detail        string
	}{
		{"the profile", inspectWith(t, learning), 0, true, "runs web's seccomp profile, revision 1 (log)"},
		{"another profile", other, 1, false, "recreate the container"},
		{"no custom profile", unconfined, 1, false, "no custom seccomp profile"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := e.run(tc.inspect, "--json", "verify", "web", "--inspect", "-")
			assert.Equal(t, tc.code, code, errs)
			assert.Empty(t, errs)
			dec := json.NewDecoder(strings.NewReader(out))
			var d doc
			require.NoError(t, dec.Decode(&d), out)
			assert.False(t, dec.More(), "one JSON document: %s", out)
			assert.Equal(t, tc.ok, d.OK)
			assert.Equal(t, "web", d.Profile)
			assert.Equal(t, 1, d.Revision)
			assert.Equal(t, "log", d.Mode)
			assert.Len(t, d.SHA256, 64)
			require.Len(t, d.Containers, 1)
			assert.Equal(t, tc.ok, d.Containers[0].OK)
			assert.Contains(t, d.Containers[0].Detail, tc.detail)
			if tc.ok {
				assert.Equal(t, d.SHA256, d.Containers[0].SHA256)
			}
		})
	}

	// Errors: not a profile aa-flow keeps, and inspect output that is not
	// JSON; stdout is empty and stderr one error object.
	for _, args := range [][]string{{"verify", "nosuch", "--inspect", "-"}, {"verify", "web", "--inspect", "-"}} {
		code, out, errs := e.run("not json", append([]string{"--json"}, args...)...)
		assert.Equal(t, 1, code, errs)
		assert.Empty(t, out)
		var je jsonError
		dec := json.NewDecoder(strings.NewReader(errs))
		require.NoError(t, dec.Decode(&je), errs)
		assert.False(t, dec.More(), errs)
		assert.Equal(t, 1, je.Exit)
		assert.NotEmpty(t, je.Error)
	}
}
