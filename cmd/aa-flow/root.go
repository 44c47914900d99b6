package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/spf13/cobra"
)

// Exit codes, documented in the README.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitNew     = 3 // learn --check: new behaviour found
	exitRefused = 4 // enforce: the gate refused
)

// globalOptions are the flags every command shares. One value is built per
// run and passed down to each command; nothing is package-level.
type globalOptions struct {
	ProfileDir string // --profile-dir
	StateDir   string // --state-dir
	Parser     string // --parser: the apparmor_parser binary
	Securityfs string // --securityfs: where securityfs is mounted
	JSON       bool   // --json
	NoColor    bool   // --no-color

	In  io.Reader
	Out io.Writer
	Err io.Writer
}

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
  aa-flow rollback NAME           undo: the previous revision, reloaded`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(g.In)
	root.SetOut(g.Out)
	root.SetErr(g.Err)
	pf := root.PersistentFlags()
	pf.StringVar(&g.ProfileDir, "profile-dir", "/etc/apparmor.d", "directory of AppArmor profiles")
	pf.StringVar(&g.StateDir, "state-dir", "/var/lib/aa-flow", "directory for aa-flow's revisions, proposals and cursors")
	pf.StringVar(&g.Parser, "parser", "apparmor_parser", "the apparmor_parser binary")
	pf.StringVar(&g.Securityfs, "securityfs", "/sys/kernel/security", "where securityfs is mounted")
	pf.BoolVar(&g.JSON, "json", false, "machine-readable JSON output")
	pf.BoolVar(&g.NoColor, "no-color", false, "no colour in output (also when NO_COLOR is set or output is not a terminal)")

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
	)
	return root
}

// run executes one aa-flow invocation and returns its exit code.
func run(args []string, in io.Reader, out, errw io.Writer) int {
	g := &globalOptions{In: in, Out: out, Err: errw}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil && ce.err.Error() != "" {
			fmt.Fprintln(errw, "aa-flow:", ce.err)
		}
		return ce.code
	}
	fmt.Fprintln(errw, "aa-flow:", err)
	if isUsageError(err) {
		return exitUsage
	}
	return exitError
}

// Used by learn --check (exit 3) and enforce (exit 4); referenced here so the
// linters accept it before those commands land.
var _ = withCode

// isTerminal reports whether a stream is an interactive terminal.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// colorFor reports whether output to w is coloured: only on a terminal, and
// never with --no-color or NO_COLOR set.
func colorFor(g *globalOptions, w any) bool {
	if g.NoColor || os.Getenv("NO_COLOR") != "" {
		return false
	}
	return isTerminal(w)
}
