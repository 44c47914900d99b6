package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/kernel"
)

// version and commit are set at build time with
// -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = ""
)

// versionReport is what `aa-flow version` prints.
type versionReport struct {
	Version string      `json:"version"`
	Commit  string      `json:"commit,omitempty"`
	Go      string      `json:"go"`
	Parser  parserInfo  `json:"parser"`
	Kernel  kernelState `json:"kernel"`
}

// parserInfo is the apparmor_parser aa-flow would run.
type parserInfo struct {
	Path    string `json:"path"`
	Version string `json:"version,omitempty"`
	// ABI is the abi new profiles pin (init), from the parser's version
	// and ABIFiles, the numbered abi files of its abi directory.
	ABI      string   `json:"abi,omitempty"`
	ABIFiles []string `json:"abi_files,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// String is the parser in one phrase: "apparmor_parser 4.1.0 (PATH), new
// profiles pin abi/4.0".
func (p parserInfo) String() string {
	if p.Error != "" {
		return p.Error
	}
	s := "apparmor_parser " + p.Version + " (" + p.Path + ")"
	if p.ABI != "" {
		s += ", new profiles pin abi/" + p.ABI
	}
	return s
}

// kernelState is what the kernel says about its AppArmor: whether it has it
// and the feature ABI, measured against the parser's abi files.
type kernelState struct {
	AppArmor bool        `json:"apparmor"`
	Features string      `json:"features"`
	ABI      *kernel.ABI `json:"abi,omitempty"`
	Error    string      `json:"error,omitempty"`
}

func newVersionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print aa-flow's version, the parser's version and the kernel's AppArmor ABI",
		Long: `version prints aa-flow's version and commit, the version of the
apparmor_parser it runs (--parser) with the abi new profiles pin (the newest
numbered abi file it ships, see init), and the running kernel's AppArmor feature
ABI (securityfs apparmor/features, --securityfs): the newest abi file of the
parser's (abi/3.0, abi/4.0 in /etc/apparmor.d/abi) whose every feature the
kernel has, the feature classes the kernel has beyond it, and the binary
policy versions it loads. A missing parser or kernel support is reported, not
an error: aa-flow doctor judges them.`,
		Example: `  aa-flow version
  aa-flow version --json | jq -r .kernel.abi.covers`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := versionReport{Version: buildVersion(), Commit: buildCommit(), Go: runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
				Parser: parserState(cmd.Context(), g), Kernel: kernelABI(g)}
			if g.JSON {
				return writeJSON(g.Out, r)
			}
			w := g.Out
			fmt.Fprintf(w, "aa-flow %s\n", r.Version)
			if r.Commit != "" {
				fmt.Fprintf(w, "  commit:  %s\n", r.Commit)
			}
			fmt.Fprintf(w, "  go:      %s\n", r.Go)
			fmt.Fprintf(w, "  parser:  %s\n", r.Parser)
			_, err := fmt.Fprintf(w, "  kernel:  %s\n", r.Kernel)
			return err
		},
	}
}

func (k kernelState) String() string {
	if !k.AppArmor {
		return k.Error
	}
	if k.ABI == nil {
		return "AppArmor, ABI unknown: " + k.Error
	}
	return "AppArmor ABI " + k.ABI.String()
}

// buildVersion is the version the binary was built as: the -X value, else
// the module version go install recorded.
func buildVersion() string {
	if version == "dev" {
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			return bi.Main.Version
		}
	}
	return version
}

// buildCommit is the commit the binary was built from: the -X value, else
// the revision the go tool recorded (with -buildvcs), "+modified" when the
// tree had changes.
func buildCommit() string {
	if commit != "" {
		return commit
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = "+modified"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + modified
}

// parserState runs the configured apparmor_parser for its version.
func parserState(ctx context.Context, g *globalOptions) parserInfo {
	if ctx == nil {
		ctx = context.Background()
	}
	p := parserInfo{Path: g.Parser}
	if lp, err := exec.LookPath(g.Parser); err == nil {
		p.Path = lp
	} else {
		p.Error = fmt.Sprintf("%s not found (Debian: apt install apparmor; or --parser PATH)", g.Parser)
		return p
	}
	v, err := (&aaparser.Runner{Path: p.Path}).Version(ctx)
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.Version = v
	files, err := kernel.NumberedABIs(abiDir(g))
	if err != nil {
		p.Error = err.Error()
		return p
	}
	p.ABIFiles = files
	p.ABI, _ = kernel.ChooseABI(files, v, "")
	return p
}

// abiDir is where the parser keeps its abi files: beside the profiles, or
// the parser's own default directory when the profile directory has none.
func abiDir(g *globalOptions) string {
	d := filepath.Join(g.ProfileDir, "abi")
	if _, err := os.Stat(d); errors.Is(err, fs.ErrNotExist) {
		return "/etc/apparmor.d/abi"
	}
	return d
}

// kernelABI reads the kernel's feature set under --securityfs and measures
// it against the parser's abi files.
func kernelABI(g *globalOptions) kernelState {
	k := &kernel.FS{Securityfs: g.Securityfs}
	s := kernelState{Features: k.FeaturesPath()}
	f, err := k.Features()
	if err != nil {
		s.AppArmor = !errors.Is(err, kernel.ErrNoAppArmor)
		s.Error = err.Error()
		return s
	}
	s.AppArmor = true
	a, err := kernel.MatchABI(f, abiDir(g))
	if err != nil {
		s.Error = err.Error()
		return s
	}
	s.ABI = &a
	return s
}
