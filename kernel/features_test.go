package kernel

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// debianABI30 is the feature file Debian's apparmor package ships and
// aa-flow's profiles pin.
const debianABI30 = "/etc/apparmor.d/abi/3.0"

func readABI30(t *testing.T) Features {
	t.Helper()
	f, err := ReadFeaturesFile(debianABI30)
	require.NoError(t, err, "Debian's apparmor package is required (make deps)")
	return f
}

// writeFeaturesTree lays f out the way the kernel exports it under
// securityfs: a directory per class, a file per feature.
func writeFeaturesTree(t *testing.T, dir string, f Features) {
	t.Helper()
	for k, v := range f {
		p := filepath.Join(dir, filepath.FromSlash(k))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(v+"\n"), 0o444))
	}
}

func with(f Features, kv ...string) Features {
	out := Features{}
	for k, v := range f {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestParseFeaturesDebianABI(t *testing.T) {
	f := readABI30(t)
	assert.Equal(t, "read trace", f["ptrace/mask"])
	assert.Equal(t, "yes", f["network/af_unix"])
	assert.Equal(t, "yes", f["query/label/multi_transaction"])
	assert.Equal(t, "0xffffff", f["capability"])
	assert.Equal(t, []string{"v5", "v6", "v7", "v8"}, f.PolicyVersions())
	assert.Contains(t, f.Classes(), "network_v8")
	assert.NotContains(t, f.Classes(), "userns")
}

func TestParseFeaturesErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ptrace {mask {read trace\n}\n", `line 3: "ptrace" is not closed`},
		{"ptrace mask", `line 1: expected { after "ptrace"`},
		{"a {yes\n}\n}", `line 3: unexpected '}'`},
		{"a {\n b {yes", `line 1: "a" is not closed`},
		{"a {b {yes}\n c", `line 2: expected { after "c"`},
	} {
		_, err := ParseFeatures([]byte(tc.in))
		assert.EqualError(t, err, tc.want, "%q", tc.in)
	}
	f, err := ParseFeatures([]byte("a {\n}\nb {c {yes}}"))
	require.NoError(t, err)
	assert.Equal(t, Features{"a": "", "b/c": "yes"}, f)
}

func TestKernelFeaturesTree(t *testing.T) {
	abi := readABI30(t)
	k := &FS{Securityfs: t.TempDir()}
	_, err := k.Features()
	assert.ErrorIs(t, err, ErrNoAppArmor)

	writeFeaturesTree(t, k.FeaturesPath(), abi)
	got, err := k.Features()
	require.NoError(t, err)
	assert.Equal(t, abi, got, "the kernel's tree reads as the flattened file parses")
	assert.Empty(t, got.Missing(abi))
}

func TestMissing(t *testing.T) {
	abi := readABI30(t)
	for _, tc := range []struct {
		name   string
		kernel Features
		want   []string
	}{
		{"newer kernel", with(abi, "capability", "0xffffffffff", "namespaces/pivot_root", "yes", "userns/create", "yes"), nil},
		{"mask word missing", with(abi, "ptrace/mask", "read"), []string{"ptrace/mask: trace"}},
		{"smaller capability mask", with(abi, "capability", "0xffff"), []string{"capability: 0xffffff"}},
		{"older domain version", with(abi, "domain/version", "1.0"), []string{"domain/version: 1.2"}},
	} {
		assert.Equal(t, tc.want, tc.kernel.Missing(abi), tc.name)
	}
	k := with(abi)
	delete(k, "network/af_unix")
	assert.Equal(t, []string{"network/af_unix"}, k.Missing(abi))
}

func TestMatchABI(t *testing.T) {
	abi := readABI30(t)
	dir := t.TempDir()
	b, err := os.ReadFile(debianABI30)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "3.0"), b, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "4.0"), append(b, "userns {create {yes\n}\n}\n"...), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "kernel-5.4-vanilla"), []byte("everything {yes}"), 0o644))

	k61 := with(abi, "policy/versions/v9", "yes")
	a, err := MatchABI(k61, dir)
	require.NoError(t, err)
	assert.Equal(t, ABI{Covers: "3.0", PolicyVersions: []string{"v5", "v6", "v7", "v8", "v9"}}, a)
	assert.Equal(t, "abi/3.0 (policy v5-v9)", a.String())

	k612 := with(k61, "userns/create", "yes", "io_uring/sqpoll", "yes")
	a, err = MatchABI(k612, dir)
	require.NoError(t, err)
	assert.Equal(t, "4.0", a.Covers)
	assert.Equal(t, []string{"io_uring"}, a.Extra)

	a, err = MatchABI(k612, filepath.Join(dir, "none"))
	require.NoError(t, err)
	assert.Empty(t, a.Covers)
	assert.Contains(t, a.Extra, "userns")
	assert.Contains(t, a.String(), "no known abi file covered (classes: ")

	old := with(abi)
	delete(old, "network_v8/af_mask")
	a, err = MatchABI(old, dir)
	require.NoError(t, err)
	assert.Empty(t, a.Covers)

	// Debian 12's 6.1 kernel lacks three of abi/3.0's features (Ubuntu's
	// dbus and unix mediation, and the pre-v8 network mask), as `aa-flow
	// version` printed in the Debian 12 e2e guest:
	//   kernel:  AppArmor ABI abi/3.0 without dbus/mask, network/af_mask, network/af_unix (policy v5-v9)
	deb12 := with(k61)
	for _, f := range []string{"dbus/mask", "network/af_mask", "network/af_unix"} {
		require.Contains(t, deb12, f)
		delete(deb12, f)
	}
	a, err = MatchABI(deb12, dir)
	require.NoError(t, err)
	assert.Empty(t, a.Covers)
	assert.Equal(t, "3.0", a.Nearest)
	assert.Equal(t, []string{"dbus/mask", "network/af_mask", "network/af_unix"}, a.Lacks)
	assert.Empty(t, a.Extra)
	assert.Equal(t, "abi/3.0 without dbus/mask, network/af_mask, network/af_unix (policy v5-v9)", a.String())
}
