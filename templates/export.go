package templates

import (
	"bytes"
	"embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed export/*.tmpl
var exportFS embed.FS

// ExportKinds returns the snippet kinds export writes.
func ExportKinds() []string { return []string{"docker", "compose", "kubernetes", "systemd"} }

// Export describes a snippet that applies a profile to a workload.
type Export struct {
	Kind        string // docker, compose, kubernetes or systemd
	Name        string // the profile name
	ProfilePath string // the profile file, for the load command
	Mode        string // the profile's mode; complain adds a warning
	// Placeholders for the workload, "SERVICE", "CONTAINER" and "IMAGE"
	// when empty.
	Service, Container, Image string
	// SeccompPath is the seccomp profile (Docker's JSON) to apply beside
	// the AppArmor profile; none when empty.
	SeccompPath string
	// SeccompAllow and SeccompConditional are the syscalls the seccomp
	// profile allows, unconditionally and under a condition (arguments,
	// capabilities, architecture); systemd's SystemCallFilter= takes names
	// only.
	SeccompAllow, SeccompConditional []string
}

// RenderExport renders the snippet for e. Every name goes into shell
// commands and YAML unquoted, so names outside a safe character set are
// refused rather than quoted.
func RenderExport(e Export) ([]byte, error) {
	known := false
	for _, k := range ExportKinds() {
		known = known || k == e.Kind
	}
	if !known {
		return nil, fmt.Errorf("unknown export kind %q (choose one of %s)", e.Kind, strings.Join(ExportKinds(), ", "))
	}
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&e.Service, "SERVICE")
	def(&e.Container, "CONTAINER")
	def(&e.Image, "IMAGE")
	for _, f := range []struct{ what, v, extra string }{
		{"profile name", e.Name, "._-+:@/"},
		{"service", e.Service, "._-@"},
		{"container", e.Container, "._-"},
		{"image", e.Image, "._-/:@"},
		{"profile path", e.ProfilePath, "._-+:@/"},
	} {
		if err := safeWord(f.what, f.v, f.extra); err != nil {
			return nil, err
		}
	}
	if e.SeccompPath != "" {
		if err := safeWord("seccomp profile path", e.SeccompPath, "._-+:@/"); err != nil {
			return nil, err
		}
		for _, n := range append(append([]string(nil), e.SeccompAllow...), e.SeccompConditional...) {
			if err := safeWord("syscall name", n, "_"); err != nil {
				return nil, err
			}
		}
	}
	t, err := template.New("").Funcs(template.FuncMap{"join": strings.Join}).ParseFS(exportFS, "export/note.tmpl", "export/seccomp.tmpl", "export/"+e.Kind+".tmpl")
	if err != nil {
		return nil, fmt.Errorf("export template %s: %w", e.Kind, err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, e.Kind+".tmpl", e); err != nil {
		return nil, fmt.Errorf("export template %s: %w", e.Kind, err)
	}
	return b.Bytes(), nil
}

// safeWord accepts letters, digits and the extra punctuation, so the value
// is one token in a shell command and a plain YAML scalar.
func safeWord(what, v, extra string) error {
	if v == "" {
		return fmt.Errorf("empty %s", what)
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(extra, r)) {
			return fmt.Errorf("%s %q: character %q cannot be written safely into the snippet (allowed: letters, digits and %s)", what, v, r, extra)
		}
	}
	if v[0] == '-' {
		return fmt.Errorf("%s %q starts with '-'", what, v)
	}
	return nil
}
