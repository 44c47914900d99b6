package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every command that takes NAME refuses the names AppArmor treats specially
// or that would escape the profile tree, with usage's exit code and a
// message naming the problem, and writes nothing.
func TestReservedProfileNames(t *testing.T) {
	e := newHostEnv(t)
	cmds := [][]string{
		{"init", "--exec", "/usr/bin/true", "--no-load"},
		{"init", "--exec", "/usr/bin/true", "--dry-run"},
		{"learn", "--from", "/dev/null"},
		{"apply", "--all"},
		{"enforce"},
		{"complain"},
		{"rollback"},
		{"status"},
		{"history"},
		{"disable"},
		{"enable"},
	}
	for _, name := range []string{".hidden", "abstractions", "tunables/global", "local", "disable", "force-complain", "cache", "unconfined", "a//b", "a&b", ":ns:web", "../x"} {
		for _, c := range cmds {
			args := append([]string{c[0], name}, c[1:]...)
			code, _, errs := e.run(args...)
			assert.Equal(t, exitUsage, code, "%v: %s", args, errs)
			assert.Contains(t, errs, "profile name", "%v", args)
		}
	}
	ents, _ := os.ReadDir(e.profiles)
	assert.Empty(t, ents, "no profile file written")
	_, err := os.Stat(filepath.Join(e.state))
	if err == nil {
		ents, _ = os.ReadDir(e.state)
		assert.Empty(t, ents, "no state written")
	}
}
