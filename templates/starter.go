package templates

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/template"

	"github.com/aa-flow/aa-flow/profiles"
)

//go:embed starter/*.tmpl
var starterFS embed.FS

// abiName is a numbered abi: 3.0, 4.0.
var abiName = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// StarterTemplates returns the names init accepts for --template.
func StarterTemplates() []string { return []string{"service", "container", "script", "minimal"} }

// Starter describes the starter profile init writes.
type Starter struct {
	Template string // service, container, script or minimal
	Name     string // the profile name
	Exec     string // the binary (or script) the profile attaches to; optional for container
	// Local is the file name under local/ for site additions: the profile
	// file's base name, as AppArmor's tools name it.
	Local string
	// ABI is the abi the profile pins ("3.0", "4.0"); "3.0" when empty.
	ABI string
	// Script only, filled by ReadShebang: the interpreter line and the
	// interpreter binaries (as written and with symlinks resolved).
	Shebang     string
	Interpreter []string
	// InterpAbstraction is the abstraction for the interpreter
	// (python, perl, bash, ruby, php), when one exists.
	InterpAbstraction string
}

// starterView is what the templates see: every name already escaped and
// quoted for the profile language.
type starterView struct {
	Starter
	NameToken    string
	ExecToken    string
	InterpTokens []string
}

// RenderStarter renders the starter profile s. Names and paths are escaped
// so that they stand for themselves; a profile name holding characters a
// profile name should not have is refused.
func RenderStarter(s Starter) ([]byte, error) {
	if !starterKnown(s.Template) {
		return nil, fmt.Errorf("unknown template %q (choose one of %s)", s.Template, strings.Join(StarterTemplates(), ", "))
	}
	if err := checkProfileName(s.Name); err != nil {
		return nil, err
	}
	if s.Exec == "" && s.Template != "container" {
		return nil, fmt.Errorf("template %s needs the binary the profile confines (--exec PATH)", s.Template)
	}
	if s.Local == "" || strings.ContainsAny(s.Local, "/<>\" \t\n") {
		return nil, fmt.Errorf("invalid local include name %q", s.Local)
	}
	if s.ABI == "" {
		s.ABI = "3.0"
	}
	if !abiName.MatchString(s.ABI) {
		return nil, fmt.Errorf("abi %q: want a numbered abi such as 3.0 or 4.0", s.ABI)
	}
	v := starterView{Starter: s, NameToken: s.Name}
	if s.Exec != "" {
		if !filepath.IsAbs(s.Exec) {
			return nil, fmt.Errorf("--exec %q: an absolute path is needed", s.Exec)
		}
		lit, err := profiles.EscapeLiteral(s.Exec)
		if err != nil {
			return nil, fmt.Errorf("--exec %q: %w", s.Exec, err)
		}
		v.ExecToken = profiles.QuoteToken(lit)
	}
	for _, in := range s.Interpreter {
		lit, err := profiles.EscapeLiteral(in)
		if err != nil {
			return nil, fmt.Errorf("interpreter %q: %w", in, err)
		}
		v.InterpTokens = append(v.InterpTokens, profiles.QuoteToken(lit))
	}
	if s.InterpAbstraction != "" && strings.ContainsAny(s.InterpAbstraction, "/<> \t\n\"") {
		return nil, fmt.Errorf("invalid abstraction name %q", s.InterpAbstraction)
	}
	if strings.ContainsAny(s.Shebang, "\n\r") {
		return nil, fmt.Errorf("shebang %q spans lines", s.Shebang)
	}
	t, err := template.ParseFS(starterFS, "starter/header.tmpl", "starter/"+s.Template+".tmpl")
	if err != nil {
		return nil, fmt.Errorf("starter template %s: %w", s.Template, err)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, s.Template+".tmpl", v); err != nil {
		return nil, fmt.Errorf("starter template %s: %w", s.Template, err)
	}
	return b.Bytes(), nil
}

// checkProfileName accepts the names a profile can safely be given on the
// command line: letters, digits and . _ - + : @ /, not starting with '#'
// or '^'.
func checkProfileName(name string) error {
	if name == "" {
		return fmt.Errorf("empty profile name")
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-+:@/", r)
		if !ok {
			return fmt.Errorf("profile name %q: character %q is not allowed (use letters, digits and . _ - + : @ /)", name, r)
		}
	}
	if strings.Contains(name, "//") {
		return fmt.Errorf("profile name %q: // separates a child profile", name)
	}
	return nil
}

func starterKnown(name string) bool {
	for _, x := range StarterTemplates() {
		if x == name {
			return true
		}
	}
	return false
}

// interpreterAbstraction is the abstraction for an interpreter's base name
// (without version digits), or "".
func interpreterAbstraction(base string) string {
	switch base {
	case "python", "perl", "bash", "ruby", "php":
		return base
	case "sh", "dash":
		return "bash"
	}
	return ""
}

// ReadShebang fills the script fields of s from the #! line of the script
// s.Exec: the interpreter (resolved through env and PATH, and through
// symlinks, since AppArmor mediates the resolved path) and its abstraction
// if abstractionDirs (profile directories) hold it.
func ReadShebang(s *Starter, abstractionDirs ...string) error {
	f, err := os.Open(s.Exec)
	if err != nil {
		return fmt.Errorf("read the script's interpreter: %w", err)
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && line == "" {
		return fmt.Errorf("read the script's interpreter from %s: %w", s.Exec, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "#!") {
		return fmt.Errorf("%s has no #! line: use --template service for a binary", s.Exec)
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		return fmt.Errorf("%s: empty #! line", s.Exec)
	}
	s.Shebang = line
	interp := fields[0]
	var paths []string
	if filepath.Base(interp) == "env" {
		paths = append(paths, interp)
		prog := ""
		for _, a := range fields[1:] {
			if !strings.HasPrefix(a, "-") {
				prog = a
				break
			}
		}
		if prog == "" {
			return fmt.Errorf("%s: %q names no program after env", s.Exec, line)
		}
		found, err := exec.LookPath(prog)
		if err != nil {
			return fmt.Errorf("%s: interpreter %q not found in PATH: %w", s.Exec, prog, err)
		}
		interp = found
	}
	paths = append(paths, interp)
	if real, err := filepath.EvalSymlinks(interp); err == nil && real != interp {
		paths = append(paths, real)
	}
	sort.Strings(paths)
	s.Interpreter = dedupeSorted(paths)
	base := strings.TrimRight(filepath.Base(interp), "0123456789.")
	if abs := interpreterAbstraction(base); abs != "" {
		for _, d := range abstractionDirs {
			if _, err := os.Stat(filepath.Join(d, "abstractions", abs)); err == nil {
				s.InterpAbstraction = abs
				break
			}
		}
	}
	return nil
}

func dedupeSorted(ss []string) []string {
	var out []string
	for i, s := range ss {
		if i == 0 || s != ss[i-1] {
			out = append(out, s)
		}
	}
	return out
}
