package main

import (
	"errors"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/kernel"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitNew     = 3 // learn, seccomp learn: new behaviour found
	exitRefused = 4 // enforce, seccomp enforce: the gate refused
)

// globalOptions are the flags every command shares. One value is built per
// run and passed down to each command; nothing is package-level.
type globalOptions struct {
	ProfileDir string // --profile-dir, $AAFLOW_PROFILE_DIR
	StateDir   string // --state-dir, $AAFLOW_STATE_DIR
	Parser     string // --parser: the apparmor_parser binary, $AAFLOW_PARSER
	Securityfs string // --securityfs: where securityfs is mounted
	JSON       bool   // --json
	Color      string // --color: auto, always or never
	NoColor    bool   // --no-color: --color=never
	Quiet      bool   // -q, --quiet

	In  io.Reader
	Out io.Writer
	Err io.Writer
	// Getenv reads the environment (os.Getenv).
	Getenv func(string) string
	// AuditStatus reads the kernel's audit status for the enforce gate
	// (kernel.ReadAuditStatus when nil).
	AuditStatus func() (kernel.AuditStatus, error)

	// started is set once flags and arguments were accepted and a command's
	// own code runs: an error before that is a usage mistake.
	started bool
}

// Environment variables that give the global flags their defaults.
const (
	envProfileDir = "AAFLOW_PROFILE_DIR"
	envStateDir   = "AAFLOW_STATE_DIR"
	envParser     = "AAFLOW_PARSER"
)

// envOr is the value of the environment variable key, or def when it is
// unset or empty.
func (g *globalOptions) envOr(key, def string) string {
	if v := g.Getenv(key); v != "" {
		return v
	}
	return def
}

// exitCodesHelp is the exit status table, the same for every command.
const exitCodesHelp = `
Exit status, the same for every command:
  0  success (status: every profile asked about is where it should be)
  1  error: bad input or data, a failed check, a profile aa-flow does not know
  2  usage: an unknown command or flag, a wrong argument count or value
  3  new behaviour proposed: learn --check (or learn without a terminal),
     seccomp learn without --yes
  4  the gate refuses: enforce, seccomp enforce; status NAME when its gate would`

// codeError carries an exit code other than 1 up to run.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// withCode wraps err so that the process exits with code.
func withCode(code int, err error) error { return &codeError{code: code, err: err} }

func newRootCmd(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "aa-flow",
		Short: "Take a service from unconfined to an enforced AppArmor profile, safely",
		Long: `aa-flow builds an application-specific AppArmor profile from what the kernel
actually logged. The workflow:

  aa-flow init NAME --exec PATH   starter profile, loaded in complain mode
  (run the service's real workload)
  aa-flow learn NAME              propose rules from the audit records; review; apply
  aa-flow enforce NAME            flip to enforce once the complain window is clean
  aa-flow status                  where each profile stands
  aa-flow rollback NAME           undo: the previous revision, reloaded

Environment: AAFLOW_PROFILE_DIR, AAFLOW_STATE_DIR and AAFLOW_PARSER are the
defaults of --profile-dir, --state-dir and --parser; NO_COLOR set, or
TERM=dumb, means no colour unless --color=always.
` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			switch g.Color {
			case "auto", "always", "never":
			default:
				return usagef("--color must be auto, always or never, got %q", g.Color)
			}
			g.started = true
			return nil
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	root.SetIn(g.In)
	root.SetOut(g.Out)
	root.SetErr(g.Err)
	pf := root.PersistentFlags()
	pf.StringVar(&g.ProfileDir, "profile-dir", g.envOr(envProfileDir, "/etc/apparmor.d"), "directory of AppArmor profiles ($"+envProfileDir+")")
	pf.StringVar(&g.StateDir, "state-dir", g.envOr(envStateDir, "/var/lib/aa-flow"), "directory for aa-flow's revisions, proposals and cursors ($"+envStateDir+")")
	pf.StringVar(&g.Parser, "parser", g.envOr(envParser, "apparmor_parser"), "the apparmor_parser binary ($"+envParser+")")
	pf.StringVar(&g.Securityfs, "securityfs", "/sys/kernel/security", "where securityfs is mounted")
	pf.BoolVar(&g.JSON, "json", false, "machine-readable JSON output, errors too (a JSON object on standard error)")
	pf.StringVar(&g.Color, "color", "auto", "colour: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always or never")
	pf.BoolVar(&g.NoColor, "no-color", false, "no colour (--color=never)")
	pf.BoolVarP(&g.Quiet, "quiet", "q", false, "print only data and errors, not what was done")

	root.AddCommand(
		newVersionCmd(g),
		newCompletionCmd(g),
		newLogsCmd(g),
		newFmtCmd(g),
		newInitCmd(g),
		newLearnCmd(g),
		newDiffCmd(g),
		newReviewCmd(g),
		newApplyCmd(g),
		newEnforceCmd(g),
		newComplainCmd(g),
		newRollbackCmd(g),
		newHistoryCmd(g),
		newDisableCmd(g),
		newEnableCmd(g),
		newStatusCmd(g),
		newExportCmd(g),
		newLintCmd(g),
		newCheckCmd(g),
		newSeccompCmd(g),
		newDoctorCmd(g),
		newManpagesCmd(g),
	)
	registerCompletions(root, g)
	return root
}

// run executes one aa-flow invocation and returns its exit code.
func run(args []string, in io.Reader, out, errw io.Writer) int {
	return runEnv(args, in, out, errw, os.Getenv)
}

// runEnv is run with the environment read through getenv.
func runEnv(args []string, in io.Reader, out, errw io.Writer, getenv func(string) string) int {
	return runOptions(&globalOptions{In: in, Out: out, Err: errw, Getenv: getenv}, args)
}

// runOptions is run with the options g holds before the flags are parsed.
func runOptions(g *globalOptions, args []string) int {
	root := newRootCmd(g)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	code := exitCode(err, g.started)
	if !g.started {
		// flags may not have been parsed (an unknown command): --json
		// still asks for a JSON error
		g.JSON = g.JSON || jsonAsked(args)
	}
	var se *silentExit
	if !errors.As(err, &se) {
		reportError(g, err, code, profileArg(cmd))
	}
	return code
}

// jsonAsked reports whether args ask for --json before a "--".
func jsonAsked(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "--json", "--json=true":
			return true
		}
	}
	return false
}

// profileArg is the profile name a command was given, for error messages:
// its first argument when its usage line starts with NAME.
func profileArg(cmd *cobra.Command) string {
	if cmd == nil || cmd.Flags().NArg() == 0 {
		return ""
	}
	if f := strings.Fields(cmd.Use); len(f) > 1 && strings.HasPrefix(f[1], "NAME") || len(f) > 1 && strings.HasPrefix(f[1], "[NAME") {
		return cmd.Flags().Arg(0)
	}
	return ""
}

// isTerminal reports whether a stream is an interactive terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorFor reports whether output to w is coloured: --color=always, or
// --color=auto on a terminal when neither NO_COLOR is set nor TERM=dumb.
func colorFor(g *globalOptions, w any) bool {
	switch {
	case g.NoColor || g.Color == "never":
		return false
	case g.Color == "always":
		return true
	case g.Getenv("NO_COLOR") != "" || g.Getenv("TERM") == "dumb":
		return false
	}
	return isTerminal(w)
}
