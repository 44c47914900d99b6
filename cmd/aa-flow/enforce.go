package main

import (
	"errors"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aa-flow/aa-flow/learn"
	"github.com/aa-flow/aa-flow/rollout"
)

func newEnforceCmd(g *globalOptions) *cobra.Command {
	var (
		gf                 gateFlags
		force, dry, noLoad bool
	)
	cmd := &cobra.Command{
		Use:   "enforce NAME",
		Short: "Switch a profile to enforce mode once the complain window is clean",
		Long: `enforce is the gate between learning and enforcing. It refuses (exit 4),
saying why and what to do, while:
  - any record for the profile (or its hats and children) that the profile
    does not cover was logged since the last apply;
  - the complain window since the last apply is shorter than --quiet-for;
  - records were lost in that window (rate limits, backlog overflow), or the
    kernel's own count of lost audit records (auditctl -s's "lost",
    journalled at the window's start) rose since or cannot be read.
Otherwise it removes complain from the flags of the profile and all its hats
and children (only the flags are edited: comments and layout stay), removes a
force-complain/ link, reloads with apparmor_parser -r -W, and checks the kernel
now reports (enforce). If it does not, the previous revision is restored.

Records come from --from FILE (repeatable: an audit.log, syslog or kern.log,
dmesg output, /dev/kmsg read up to its newest record, gzip-compressed logs, -
for standard input; a record seen in two of them counts once), else from the
host's own log as learn finds it: auditd's audit.log when auditd runs, else
journald, else the syslog files, else /dev/kmsg. Only records logged since the
last apply count, and only losses logged since then (a loss whose time the
log does not give counts): in a log that holds the kernel's STATUS record of
the reload that started the window, everything after it counts whatever its
time, so a clock set back hides nothing.`,
		Example: `  aa-flow enforce nginx
  aa-flow enforce nginx --quiet-for 2h --from /var/log/audit/audit.log
  aa-flow enforce nginx --dry-run`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := managed(g, name); err != nil {
				return err
			}
			h := newHost(g, dry)
			opts := rollout.EnforceOptions{Force: force, NoLoad: noLoad}
			if !force {
				gate, err := gf.options(g, name)
				if err != nil {
					return err
				}
				opts.Gate = gate
			}
			report, err := h.Enforce(cmd.Context(), name, opts)
			if g.JSON && report != nil {
				if jerr := writeJSON(g.Out, report); jerr != nil {
					return jerr
				}
			}
			if errors.Is(err, rollout.ErrGateRefused) {
				return withCode(exitRefused, err)
			}
			if err != nil {
				return err
			}
			switch {
			case g.JSON:
			case dry:
				g.info("%s: dry run: the checks passed and nothing was changed; the real run does the steps above\n", name)
			case noLoad:
				g.info("%s: enforce mode in the profile file; not loaded (--no-load)\n", name)
			default:
				g.info("%s: enforce mode, confirmed by the kernel\n", name)
			}
			return nil
		},
	}
	gf.register(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "skip the gate (the override is journalled)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "evaluate the gate, print each file write and apparmor_parser command, change nothing")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "edit the file but do not reload it")
	return cmd
}

// gateFlags are the flags that feed the enforce gate (enforce, status).
type gateFlags struct {
	From     []string
	QuietFor time.Duration
}

func (gf *gateFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&gf.From, "from", nil, "log file to read (repeatable; default: the host's own log)")
	gf.QuietFor = 24 * time.Hour
	f.Var(days{&gf.QuietFor}, "quiet-for", "shortest complain window since the last apply (30m, 24h, 3d)")
}

// options wires the gate of the managed profile name to the logs and to the
// learner's coverage check.
func (gf *gateFlags) options(g *globalOptions, name string) (rollout.GateOptions, error) {
	return gf.optionsLog(g, name, g.logw())
}

// optionsLog is options with the sources' messages written to log.
func (gf *gateFlags) optionsLog(g *globalOptions, name string, log io.Writer) (rollout.GateOptions, error) {
	src := learn.GateSource{Dirs: dirs(g), From: gf.From, Log: log, Stdin: g.In, Progress: readProgress(g)}
	return learn.GateOptions(src, name, gf.QuietFor)
}
