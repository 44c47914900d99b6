package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/internal/doctor"
)

// doctorHost is a scratch host: a parser stand-in, a profile directory with
// Debian's abi/3.0, a fake securityfs with AppArmor's files.
func doctorHost(t *testing.T) (dir string, global []string) {
	t.Helper()
	d := t.TempDir()
	secfs := filepath.Join(d, "sys")
	fakeFeatures(t, secfs)
	require.NoError(t, os.WriteFile(filepath.Join(secfs, "apparmor", "profiles"), []byte("web (enforce)\n"), 0o444))
	profiles := filepath.Join(d, "apparmor.d")
	require.NoError(t, os.MkdirAll(filepath.Join(profiles, "abi"), 0o755))
	abi, err := os.ReadFile(aaparser.ABI30Features)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(profiles, "abi", "3.0"), abi, 0o644))
	return d, []string{"--securityfs", secfs, "--parser", fakeParserBin(t, d, "3.0.8"), "--profile-dir", profiles, "--state-dir", filepath.Join(d, "state")}
}

func TestDoctorCmd(t *testing.T) {
	_, global := doctorHost(t)
	code, out, errs := runAAFlow(append([]string{"doctor"}, global...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var logLine string
	for _, l := range lines {
		if strings.Contains(l, " log source ") {
			logLine = l
			continue
		}
		if strings.HasPrefix(l, "✓ ") || strings.HasPrefix(l, "✗ ") {
			assert.True(t, strings.HasPrefix(l, "✓ "), "everything but the host's own log is faked healthy: %s", l)
		}
	}
	require.NotEmpty(t, logLine, out)
	logRequiredFails := strings.HasPrefix(logLine, "✗") && !strings.HasSuffix(logLine, "(not required)")
	if logRequiredFails {
		assert.Equal(t, exitError, code, out)
	} else {
		assert.Equal(t, exitOK, code, "%s%s", out, errs)
	}
	assert.Contains(t, out, "✓ kernel ABI         abi/3.0 (policy v5-v8)\n")
	assert.Contains(t, out, "✓ parser             apparmor_parser 3.0.8 (")
}

func TestDoctorCmdFailing(t *testing.T) {
	d, global := doctorHost(t)
	require.NoError(t, os.RemoveAll(filepath.Join(d, "sys", "apparmor")))
	require.NoError(t, os.Chmod(filepath.Join(d, "apparmor.d"), 0o777))

	code, out, errs := runAAFlow(append([]string{"doctor"}, global...)...)
	assert.Equal(t, exitError, code)
	assert.Empty(t, errs, "the report says it all")
	assert.Contains(t, out, "✗ AppArmor           AppArmor is not enabled in this kernel")
	assert.Contains(t, out, "                     fix: boot with apparmor=1")
	assert.Contains(t, out, "✗ profile directory  "+filepath.Join(d, "apparmor.d")+" is writable by group or others (mode 0777)")
	assert.Contains(t, out, "✗ kernel ABI         unknown without AppArmor")
	assert.Contains(t, out, "(not required)")
	assert.Regexp(t, `\d check\(s\) failed, \d required: fix those before aa-flow can work here\n$`, out)

	code, out, _ = runAAFlow(append([]string{"doctor", "--quiet"}, global...)...)
	assert.Equal(t, exitError, code)
	assert.NotContains(t, out, "✓")
	assert.Contains(t, out, "✗ AppArmor")

	code, out, errs = runAAFlow(append([]string{"doctor", "--json"}, global...)...)
	assert.Equal(t, exitError, code)
	assert.Empty(t, errs)
	var doc struct {
		OK     bool           `json:"ok"`
		Checks []doctor.Check `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	assert.False(t, doc.OK)
	require.Len(t, doc.Checks, 8)
	assert.Equal(t, "parser", doc.Checks[0].Name)
	assert.True(t, doc.Checks[0].OK)
	for _, c := range doc.Checks {
		if c.Name == "AppArmor" {
			assert.False(t, c.OK)
			assert.True(t, c.Required)
			assert.NotEmpty(t, c.Fix)
		}
	}
}
