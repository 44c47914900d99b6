package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/audit/source"
	"github.com/aa-flow/aa-flow/internal/doctor"
)

func newDoctorCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "Check that this host is ready for aa-flow, and say how to fix what is not",
		Long: `doctor checks what aa-flow needs, one line each, ✓ or ✗ with the fix:
the apparmor_parser (--parser) and its version, the parser's abi files,
securityfs (--securityfs) and AppArmor in the kernel, the kernel's feature
ABI, which log aa-flow would read records from when no --from is given and
whether that log can prove its records came from the kernel (auditd's log,
the journal's kernel and audit transports and /dev/kmsg can; a syslog file
cannot), and that the profile and state directories (--profile-dir,
--state-dir) are owned by root and not writable by others.

It exits 1 when a required check fails (the parser, abi files, securityfs,
AppArmor, a log source, the directories); a log that cannot prove where its
records came from, or a kernel older than the abi files, is reported but not
required. With --quiet only the failures are printed.`,
		Example: `  aa-flow doctor
  aa-flow doctor --json | jq '.checks[] | select(.ok | not)'`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cs := doctor.Run(cmd.Context(), doctor.Host{Parser: g.Parser, ABIDir: abiDir(g), ProfileDir: g.ProfileDir,
				StateDir: g.StateDir, Securityfs: g.Securityfs, LogSource: hostLogSource})
			failed := doctor.Failed(cs, true)
			if g.JSON {
				if err := writeJSON(g.Out, struct {
					OK     bool           `json:"ok"`
					Checks []doctor.Check `json:"checks"`
				}{len(failed) == 0, cs}); err != nil {
					return err
				}
			} else {
				printChecks(g, cs, len(failed))
			}
			if len(failed) > 0 {
				return exitWith(exitError)
			}
			return nil
		},
	}
}

func printChecks(g *globalOptions, cs []doctor.Check, required int) {
	for _, c := range cs {
		if c.OK {
			if !g.Quiet {
				fmt.Fprintf(g.Out, "✓ %-18s %s\n", c.Name, c.Detail)
			}
			continue
		}
		note := ""
		if !c.Required {
			note = " (not required)"
		}
		fmt.Fprintf(g.Out, "✗ %-18s %s%s\n", c.Name, c.Detail, note)
		if c.Fix != "" {
			fmt.Fprintf(g.Out, "  %-18s fix: %s\n", "", c.Fix)
		}
	}
	if g.Quiet {
		return
	}
	switch n := len(doctor.Failed(cs, false)); {
	case n == 0:
		fmt.Fprintln(g.Out, "all checks passed")
	case required == 0:
		fmt.Fprintf(g.Out, "%d check(s) failed, none required: aa-flow works here\n", n)
	default:
		fmt.Fprintf(g.Out, "%d check(s) failed, %d required: fix those before aa-flow can work here\n", n, required)
	}
}

// hostLogSource is the log learn, logs and enforce read without --from.
func hostLogSource() (doctor.LogSource, error) {
	d, err := source.Detect(source.Options{})
	if err != nil {
		return doctor.LogSource{}, err
	}
	// A syslog file is the one source that cannot prove a line's origin.
	return doctor.LogSource{Kind: d.Kind, Name: d.Name, Why: d.Why, Trusted: d.Kind != "syslog"}, nil
}
