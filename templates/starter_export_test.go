package templates

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
)

func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	testutil.Golden(t, path, got)
}

func TestRenderStarter(t *testing.T) {
	_, err := exec.LookPath("apparmor_parser")
	require.NoError(t, err, "apparmor_parser is required (make deps)")
	tests := []Starter{
		{Template: "service", Name: "web", Exec: "/usr/sbin/web", Local: "web"},
		{Template: "minimal", Name: "tool", Exec: "/opt/my tools/bin/tool", Local: "tool"},
		{Template: "container", Name: "myapp", Local: "myapp"},
		{Template: "container", Name: "myapp", Exec: "/app/server", Local: "myapp"},
		{Template: "script", Name: "backup", Exec: "/usr/local/bin/backup.py", Local: "backup",
			Shebang: "#!/usr/bin/env python3", Interpreter: []string{"/usr/bin/env", "/usr/bin/python3", "/usr/bin/python3.11"}, InterpAbstraction: "python"},
	}
	r := &aaparser.Runner{}
	for i, s := range tests {
		name := s.Template + "-" + s.Name
		if i == 3 {
			name += "-exec"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			out, err := RenderStarter(s)
			require.NoError(t, err)
			checkGolden(t, filepath.Join("testdata", "starter", name+".profile"), out)
			_, err = r.Compile(context.Background(), name, out)
			require.NoError(t, err, "the starter compiles")
			f, err := parser.Parse(name, out)
			require.NoError(t, err)
			p := f.Find(s.Name)
			require.NotNil(t, p, "the profile is named %s", s.Name)
			assert.True(t, p.HasFlag("complain"))
			assert.Contains(t, string(out), "include if exists <local/"+s.Local+">")
			assert.Contains(t, string(out), "abi <abi/3.0>,")
		})
	}
}

func TestRenderStarterRefuses(t *testing.T) {
	tests := []struct {
		s    Starter
		want string
	}{
		{Starter{Template: "daemon", Name: "x", Exec: "/x", Local: "x"}, "unknown template"},
		{Starter{Template: "service", Name: "x y", Exec: "/x", Local: "x"}, "not allowed"},
		{Starter{Template: "service", Name: "x{", Exec: "/x", Local: "x"}, "not allowed"},
		{Starter{Template: "service", Name: "a//b", Exec: "/x", Local: "x"}, "child profile"},
		{Starter{Template: "service", Name: "x", Local: "x"}, "--exec"},
		{Starter{Template: "service", Name: "x", Exec: "bin/x", Local: "x"}, "absolute"},
		{Starter{Template: "service", Name: "x", Exec: "/x\x00y", Local: "x"}, "NUL"},
		{Starter{Template: "service", Name: "x", Exec: "/x", Local: "../x"}, "local include"},
	}
	for _, tt := range tests {
		_, err := RenderStarter(tt.s)
		require.Error(t, err, "%+v", tt.s)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func TestStarterEscapesExec(t *testing.T) {
	out, err := RenderStarter(Starter{Template: "service", Name: "x", Exec: "/opt/a*b/x", Local: "x"})
	require.NoError(t, err)
	assert.Contains(t, string(out), `/opt/a\*b/x mr,`, "a star in a real path matches only itself")
}

func TestReadShebang(t *testing.T) {
	d := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(d, name)
		require.NoError(t, os.WriteFile(p, []byte(text), 0o755))
		return p
	}
	s := Starter{Exec: write("a.sh", "#!/bin/sh -e\necho hi\n")}
	require.NoError(t, ReadShebang(&s, "/etc/apparmor.d"))
	assert.Equal(t, "#!/bin/sh -e", s.Shebang)
	assert.Contains(t, s.Interpreter, "/bin/sh")
	real, _ := filepath.EvalSymlinks("/bin/sh")
	assert.Contains(t, s.Interpreter, real, "the resolved path, which AppArmor mediates")
	assert.Equal(t, "bash", s.InterpAbstraction)

	s = Starter{Exec: write("b", "#!/usr/bin/env -S sh -x\n")}
	require.NoError(t, ReadShebang(&s))
	assert.Contains(t, s.Interpreter, "/usr/bin/env")
	assert.Empty(t, s.InterpAbstraction, "no abstraction directory given")

	s = Starter{Exec: write("c", "ELF...")}
	assert.ErrorContains(t, ReadShebang(&s), "no #! line")
	s = Starter{Exec: write("d", "#!/usr/bin/env no-such-interpreter-xyz\n")}
	assert.ErrorContains(t, ReadShebang(&s), "not found in PATH")
	s = Starter{Exec: filepath.Join(d, "missing")}
	assert.Error(t, ReadShebang(&s))
}

func TestRenderExport(t *testing.T) {
	for _, kind := range ExportKinds() {
		for _, mode := range []string{"enforce", "complain"} {
			name := kind + "-" + mode
			t.Run(name, func(t *testing.T) {
				out, err := RenderExport(Export{Kind: kind, Name: "myapp", ProfilePath: "/etc/apparmor.d/myapp", Mode: mode, Service: "web", Container: "app", Image: "registry.example/app:1.2"})
				require.NoError(t, err)
				checkGolden(t, filepath.Join("testdata", "export", name+".txt"), out)
				assert.Contains(t, string(out), "apparmor_parser -r -W /etc/apparmor.d/myapp")
				assert.Equal(t, mode == "complain", strings.Contains(string(out), "complain mode"))
			})
		}
	}
	out, err := RenderExport(Export{Kind: "docker", Name: "myapp", ProfilePath: "/etc/apparmor.d/myapp"})
	require.NoError(t, err)
	assert.Contains(t, string(out), "--security-opt apparmor=myapp IMAGE")
	assert.Contains(t, string(out), "docker inspect --format '{{.AppArmorProfile}} {{.HostConfig.SecurityOpt}}' CONTAINER")

	for _, bad := range []Export{
		{Kind: "podman", Name: "x", ProfilePath: "/p"},
		{Kind: "docker", Name: "x; rm -rf /", ProfilePath: "/p"},
		{Kind: "docker", Name: "x", ProfilePath: "/p", Image: "$(evil)"},
		{Kind: "kubernetes", Name: "x", ProfilePath: "/p", Container: "a: b"},
		{Kind: "systemd", Name: "-x", ProfilePath: "/p"},
	} {
		_, err := RenderExport(bad)
		assert.Error(t, err, "%+v", bad)
	}
}
