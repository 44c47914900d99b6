package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const fmtMessy = `# a test profile
profile fmt-test /usr/bin/fmt-test flags=(complain) {
/etc/fmt-test/** r,
	capability  setuid ,
  network inet stream,   # trailing
}
`

const fmtCanonical = `# a test profile
profile fmt-test /usr/bin/fmt-test flags=(complain) {
  capability setuid,

  network inet stream, # trailing

  /etc/fmt-test/** r,
}
`

func runFmt(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"fmt"}, args...), strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestFmtStdoutAndStdin(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fmt-test")
	require.NoError(t, os.WriteFile(p, []byte(fmtMessy), 0o600))

	code, out, errs := runFmt(t, "", p)
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, fmtCanonical, out)

	code, out, errs = runFmt(t, fmtMessy, "-")
	assert.Equal(t, 0, code, errs)
	assert.Equal(t, fmtCanonical, out)

	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, fmtMessy, string(got), "without -w the file is untouched")
}

func TestFmtCheck(t *testing.T) {
	dir := t.TempDir()
	messy := filepath.Join(dir, "messy")
	clean := filepath.Join(dir, "clean")
	require.NoError(t, os.WriteFile(messy, []byte(fmtMessy), 0o644))
	require.NoError(t, os.WriteFile(clean, []byte(fmtCanonical), 0o644))

	code, out, _ := runFmt(t, "", "--check", messy, clean)
	assert.Equal(t, exitError, code)
	assert.Equal(t, messy+"\n", out)

	code, out, _ = runFmt(t, "", "--check", clean)
	assert.Equal(t, exitOK, code)
	assert.Empty(t, out)
}

func TestFmtWrite(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fmt-test")
	require.NoError(t, os.WriteFile(p, []byte(fmtMessy), 0o640))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(p, link))

	code, out, errs := runFmt(t, "", "-w", link)
	require.Equal(t, exitOK, code, errs)
	assert.Empty(t, out)
	got, err := os.ReadFile(p)
	require.NoError(t, err)
	assert.Equal(t, fmtCanonical, string(got))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), st.Mode().Perm(), "mode kept")
	lst, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, lst.Mode()&os.ModeSymlink, "the symlink stays a symlink")
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 2, "no temporary file left behind")
}

func TestFmtErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("profile x {\n  /etc/x r\n"), 0o644))
	code, _, errs := runFmt(t, "", bad)
	assert.Equal(t, exitError, code)
	assert.Contains(t, errs, bad)

	code, _, _ = runFmt(t, "")
	assert.Equal(t, exitUsage, code)
	code, _, _ = runFmt(t, "", "-w", "--check", bad)
	assert.Equal(t, exitUsage, code)
	code, _, _ = runFmt(t, "", "-w", "-")
	assert.Equal(t, exitUsage, code)

	// A file that is not there fails; the others are still formatted.
	ok := filepath.Join(dir, "ok")
	require.NoError(t, os.WriteFile(ok, []byte(fmtCanonical), 0o644))
	code, out, errs := runFmt(t, "", filepath.Join(dir, "missing"), ok)
	assert.Equal(t, exitError, code)
	assert.Equal(t, fmtCanonical, out)
	assert.Contains(t, errs, "missing")
}
