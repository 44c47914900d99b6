package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/loggen"
)

func TestLogsCmd(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	st, err := loggen.Write(&log, loggen.Options{Records: 400, Seed: 9, Format: loggen.AuditLog})
	require.NoError(t, err)
	path := filepath.Join(dir, "audit.log")
	require.NoError(t, os.WriteFile(path, log.Bytes(), 0o644))

	logs := func(stdin string, args ...string) (int, string, string) {
		var out, errw bytes.Buffer
		code := run(append([]string{"logs"}, args...), strings.NewReader(stdin), &out, &errw)
		return code, out.String(), errw.String()
	}

	code, out, errs := logs("", "--from", path)
	require.Equal(t, 0, code, errs)
	assert.Equal(t, st.Records, strings.Count(out, "\n"), "one line per record")
	assert.NotContains(t, out, "\x1b[", "no colour when not a terminal")
	assert.Contains(t, errs, "400 records (ALLOWED 280, DENIED 120)")

	code, out, _ = logs("", "--from", path, "--mode", "denied")
	require.Equal(t, 0, code)
	assert.Equal(t, st.ByMode["DENIED"], strings.Count(out, "\n"))
	assert.NotContains(t, out, "ALLOWED")

	code, out, _ = logs("", "--from", path, "--summary")
	require.Equal(t, 0, code)
	assert.Contains(t, out, "400 records (ALLOWED 280, DENIED 120)")
	assert.Contains(t, out, "unrelated lines skipped")

	code, out, _ = logs("", "--json", "--from", path, "/usr/sbin/exampled//null-/bin/dash")
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &v), l)
		assert.Equal(t, "/usr/sbin/exampled//null-/bin/dash", v["profile"])
		assert.Equal(t, path, v["source"])
	}

	code, out, _ = logs(log.String(), "--from", "-", "--summary", "--json")
	require.Equal(t, 0, code)
	var sum map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &sum))
	assert.EqualValues(t, st.Records, sum["records"])

	code, _, errs = logs("", "--from", path, "--mode", "some")
	assert.Equal(t, exitUsage, code, errs)
	code, _, errs = logs("", "--from", path, "--since", "whenever")
	assert.Equal(t, exitUsage, code, errs)
	code, _, errs = logs("", "--from", filepath.Join(dir, "missing.log"))
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, "missing.log")
}
