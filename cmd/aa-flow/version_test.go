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

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/kernel"
)

// fakeFeatures lays out a kernel feature tree under secfs: Debian's abi/3.0
// plus the extra key/value pairs, the way securityfs exports it.
func fakeFeatures(t *testing.T, secfs string, extra ...string) {
	t.Helper()
	f, err := kernel.ReadFeaturesFile(aaparser.ABI30Features)
	require.NoError(t, err, "Debian's apparmor package is required (make deps)")
	for i := 0; i+1 < len(extra); i += 2 {
		f[extra[i]] = extra[i+1]
	}
	root := filepath.Join(secfs, "apparmor", "features")
	for k, v := range f {
		p := filepath.Join(root, filepath.FromSlash(k))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(v+"\n"), 0o444))
	}
}

// fakeParserBin writes an apparmor_parser stand-in that prints version v.
func fakeParserBin(t *testing.T, dir, v string) string {
	t.Helper()
	p := filepath.Join(dir, "apparmor_parser")
	script := "#!/bin/sh\nif [ \"$1\" = --version ]; then printf 'AppArmor parser version " + v + "\\nCopyright (C) 1999-2008 Novell Inc.\\n'; exit 0; fi\nexit 1\n"
	require.NoError(t, os.WriteFile(p, []byte(script), 0o755))
	return p
}

func runAAFlow(args ...string) (int, string, string) {
	var out, errw bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errw)
	return code, out.String(), errw.String()
}

func TestVersionCmd(t *testing.T) {
	d := t.TempDir()
	secfs := filepath.Join(d, "sys")
	fakeFeatures(t, secfs, "userns/create", "yes", "policy/versions/v9", "yes")
	parser := fakeParserBin(t, d, "4.1.0")
	global := []string{"--securityfs", secfs, "--parser", parser, "--profile-dir", filepath.Join(d, "apparmor.d")}

	code, out, errs := runAAFlow(append([]string{"version"}, global...)...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "aa-flow dev\n")
	assert.Contains(t, out, "  parser:  apparmor_parser 4.1.0 ("+parser+"), new profiles pin abi/3.0\n",
		"the host's /etc/apparmor.d/abi has only 3.0")
	assert.Contains(t, out, "  kernel:  AppArmor ABI abi/3.0 + userns (policy v5-v9)\n",
		"the host's /etc/apparmor.d/abi has 3.0: the kernel covers it and has userns beyond it")

	code, out, errs = runAAFlow(append([]string{"version", "--json"}, global...)...)
	require.Equal(t, 0, code, errs)
	var r versionReport
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.Equal(t, "dev", r.Version)
	assert.Equal(t, "4.1.0", r.Parser.Version)
	assert.Equal(t, "3.0", r.Parser.ABI)
	assert.True(t, r.Kernel.AppArmor)
	require.NotNil(t, r.Kernel.ABI)
	assert.Equal(t, "3.0", r.Kernel.ABI.Covers)
	assert.Equal(t, []string{"userns"}, r.Kernel.ABI.Extra)
	assert.Equal(t, filepath.Join(secfs, "apparmor", "features"), r.Kernel.Features)
}

// The parser's abi: the newest numbered abi file of the profile directory
// that the parser's version ships, the one init pins.
func TestVersionParserABI(t *testing.T) {
	d := t.TempDir()
	abi := filepath.Join(d, "apparmor.d", "abi")
	require.NoError(t, os.MkdirAll(abi, 0o755))
	for _, n := range []string{"3.0", "4.0"} {
		b, err := os.ReadFile(testutil.Corpus(t, "abi", n))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(abi, n), b, 0o644))
	}
	for _, tc := range []struct{ version, want string }{{"4.1.0", "4.0"}, {"3.0.8", "3.0"}} {
		parser := fakeParserBin(t, t.TempDir(), tc.version)
		code, out, errs := runAAFlow("version", "--json", "--parser", parser, "--profile-dir", filepath.Join(d, "apparmor.d"), "--securityfs", filepath.Join(d, "sys"))
		require.Equal(t, 0, code, errs)
		var r versionReport
		require.NoError(t, json.Unmarshal([]byte(out), &r), out)
		assert.Equal(t, tc.want, r.Parser.ABI, tc.version)
		assert.Equal(t, []string{"3.0", "4.0"}, r.Parser.ABIFiles)
	}
}

func TestVersionCmdWithoutAppArmor(t *testing.T) {
	d := t.TempDir()
	code, out, errs := runAAFlow("version", "--securityfs", filepath.Join(d, "sys"), "--parser", filepath.Join(d, "no-parser"))
	require.Equal(t, 0, code, "version reports what is missing; doctor judges it: %s", errs)
	assert.Contains(t, out, "  parser:  "+filepath.Join(d, "no-parser")+" not found (Debian: apt install apparmor; or --parser PATH)\n")
	assert.Contains(t, out, "  kernel:  AppArmor is not enabled in this kernel (no "+filepath.Join(d, "sys", "apparmor", "features"))

	code, out, _ = runAAFlow("version", "--json", "--securityfs", filepath.Join(d, "sys"), "--parser", filepath.Join(d, "no-parser"))
	require.Equal(t, 0, code)
	var r versionReport
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	assert.False(t, r.Kernel.AppArmor)
	assert.Nil(t, r.Kernel.ABI)
	assert.NotEmpty(t, r.Parser.Error)
}

func TestStatusShowsKernelABI(t *testing.T) {
	e := newHostEnv(t)
	code, out, _ := e.run("status")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "ABI", "a kernel without a features tree: no ABI line")

	fakeFeatures(t, e.secfs, "policy/versions/v9", "yes")
	code, out, _ = e.run("status")
	require.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(out, "kernel: AppArmor ABI abi/3.0 (policy v5-v9)\nparser: apparmor_parser "), out)

	code, out, _ = e.run("status", "--json")
	require.Equal(t, 0, code)
	var doc struct {
		ABI *kernel.ABI `json:"abi"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &doc), out)
	require.NotNil(t, doc.ABI)
	assert.Equal(t, "3.0", doc.ABI.Covers)
}
