package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// complete asks aa-flow for completions the way the shell scripts do,
// through cobra's hidden __complete command, and returns the candidates
// (value and description) and the directive.
func (e *hostEnv) complete(t *testing.T, args ...string) ([]string, cobra.ShellCompDirective) {
	t.Helper()
	code, out, errs := e.run(append([]string{"__complete"}, args...)...)
	require.Equal(t, 0, code, errs)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1]
	require.True(t, strings.HasPrefix(last, ":"), out)
	var d int
	for _, c := range last[1:] {
		d = d*10 + int(c-'0')
	}
	return lines[:len(lines)-1], cobra.ShellCompDirective(d)
}

func values(cands []string) []string {
	out := []string{}
	for _, c := range cands {
		v, _, _ := strings.Cut(c, "\t")
		out = append(out, v)
	}
	return out
}

func TestCompletion(t *testing.T) {
	e := newHostEnv(t)
	le := newLearnEnv(t)
	for _, n := range []string{"aatest", "web"} {
		code, _, errs := e.run("init", n, "--exec", "/usr/bin/"+n, "--no-load", "--force")
		require.Equal(t, 0, code, errs)
	}
	code, _, errs := e.run("learn", "aatest", "--from", le.log)
	require.Equal(t, exitNew, code, errs)

	cands, d := e.complete(t, "enforce", "")
	assert.Equal(t, []string{"aatest", "web"}, values(cands), "NAME: the managed profiles")
	assert.Equal(t, cobra.ShellCompDirectiveNoFileComp, d)
	cands, _ = e.complete(t, "enforce", "web", "")
	assert.Empty(t, cands, "one NAME only")
	cands, d = e.complete(t, "lint", "")
	assert.Equal(t, []string{"aatest", "web"}, values(cands))
	assert.Equal(t, cobra.ShellCompDirectiveDefault, d, "lint also takes files")

	cands, _ = e.complete(t, "init", "x", "--template", "")
	assert.Equal(t, []string{"service", "container", "script", "minimal"}, values(cands))
	cands, _ = e.complete(t, "logs", "--mode", "")
	assert.Equal(t, []string{"denied", "allowed", "all"}, values(cands))

	cands, d = e.complete(t, "apply", "aatest", "--only", "")
	require.NotEmpty(t, cands)
	assert.Equal(t, "r1", values(cands)[0])
	assert.Contains(t, cands[0], "\tcapability chown, (sev 9)", "the rule is the description")
	assert.Equal(t, cobra.ShellCompDirectiveNoFileComp|cobra.ShellCompDirectiveNoSpace, d)
	all := len(cands)
	cands, _ = e.complete(t, "apply", "aatest", "--except", "r1,")
	assert.Len(t, cands, all-1, "an ID already on the list is not offered again")
	assert.Equal(t, "r1,r2", values(cands)[0])
	cands, _ = e.complete(t, "apply", "web", "--only", "")
	assert.Empty(t, cands, "web has no pending proposal")

	cands, _ = e.complete(t, "rollback", "aatest", "--to", "")
	assert.Equal(t, []string{"1"}, values(cands))
	assert.Contains(t, cands[0], "\tinit")

	cands, d = e.complete(t, "version", "")
	assert.Empty(t, cands)
	assert.Equal(t, cobra.ShellCompDirectiveNoFileComp, d)
	_, d = e.complete(t, "--state-dir", "")
	assert.Equal(t, cobra.ShellCompDirectiveFilterDirs, d)
}

// The completion scripts themselves load in their shells.
func TestCompletionScripts(t *testing.T) {
	e := newHostEnv(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		code, out, errs := e.run("completion", sh)
		require.Equal(t, 0, code, errs)
		assert.Contains(t, out, "__complete")
		bin, err := exec.LookPath(sh)
		if sh != "bash" && err != nil {
			continue // zsh and fish are optional; bash is on every Debian system
		}
		require.NoError(t, err)
		f := filepath.Join(t.TempDir(), "aa-flow."+sh)
		require.NoError(t, os.WriteFile(f, []byte(out), 0o644))
		flag := "-n"
		if sh == "fish" {
			flag = "--no-execute"
		}
		cmd := exec.Command(bin, flag, f)
		b, err := cmd.CombinedOutput()
		assert.NoError(t, err, "%s: %s", sh, b)
	}
}

// Every command a user can run has its page, and the root page carries the
// exit codes and the files.
func TestManpagesCmd(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runAAFlow("manpages", "--date", "2026-12-06", dir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "manual pages to "+dir)
	root := newRootCmd(&globalOptions{Getenv: os.Getenv})
	for _, c := range root.Commands() {
		if c.IsAvailableCommand() && c.Name() != "help" {
			assert.FileExists(t, filepath.Join(dir, "aa-flow-"+c.Name()+".8"))
		}
	}
	assert.NoFileExists(t, filepath.Join(dir, "aa-flow-manpages.8"), "hidden")
	b, err := os.ReadFile(filepath.Join(dir, "aa-flow.8"))
	require.NoError(t, err)
	assert.Contains(t, string(b), "Exit status, the same for every command:")
	assert.Contains(t, string(b), ".SH FILES\n")
	assert.Contains(t, string(b), `"2026\-12\-06" "aa\-flow dev"`)
}
