package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/internal/termsafe"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/store"
)

func newStatusCmd(g *globalOptions) *cobra.Command {
	var gf gateFlags
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Where each managed profile stands: kernel mode, stage, revision, gate",
		Long: `status reports, for NAME or every profile aa-flow manages, what the kernel
says (loaded, mode, the processes the profile confines, from securityfs and
/proc/*/attr/current) and what aa-flow's state says (stage and since when,
revision, the revision aa-flow rollback NAME would reinstate, last apply), and for a profile in complain mode whether the enforce
gate would pass now: uncovered records since the last apply, and the
evidence verdict the gate reaches (complete, incomplete: records lost or cut
short, none: the logs lack the kernel's record of the load that started the
window).

Without AppArmor in the kernel it says so and reports the rest from the
files.

status NAME is an error (exit 1) for a profile aa-flow does not manage and
the kernel does not have loaded, and exits 4 when NAME is in complain mode
and its enforce gate would refuse now, so that scripts can wait on it.`,
		Example: `  aa-flow status
  aa-flow status nginx --from /var/log/audit/audit.log
  aa-flow status --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("status takes at most one profile name")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			h := newHost(g, false)
			names := args
			if len(names) == 0 {
				all, err := h.Store.List()
				if err != nil {
					return err
				}
				names = all
			}
			var out []*rollout.Status
			// every profile's gate reads the same logs: name them once
			log := &onceWriter{w: g.logw()}
			for _, n := range names {
				var gate *rollout.GateOptions
				opts, gerr := gf.optionsLog(g, n, log)
				if gerr == nil {
					gate = &opts
				}
				st, err := h.Status(cmd.Context(), n, gate)
				if err != nil {
					return err
				}
				if gerr != nil && st.Managed && st.FileMode == rollout.ModeComplain {
					st.GateErr = gerr.Error()
				}
				if len(args) == 1 && !st.Managed && !st.Loaded {
					return fmt.Errorf("%s: %w", n, store.ErrNotManaged)
				}
				out = append(out, st)
			}
			// status NAME tells a script whether the gate would open
			var refused error
			if len(args) == 1 && out[0].Stage == rollout.ModeComplain && out[0].Gate != nil && !out[0].Gate.Pass {
				refused = withCode(exitRefused, fmt.Errorf("%s: %w", args[0], rollout.ErrGateRefused))
			}
			kerr := h.Kernel.Available()
			abi := kernelABI(g).ABI
			if g.JSON {
				doc := struct {
					AppArmor bool              `json:"apparmor"`
					Kernel   string            `json:"kernel,omitempty"`
					ABI      *kernel.ABI       `json:"abi,omitempty"`
					Parser   parserInfo        `json:"parser"`
					Profiles []*rollout.Status `json:"profiles"`
				}{AppArmor: kerr == nil, ABI: abi, Parser: parserState(cmd.Context(), g), Profiles: out}
				if kerr != nil {
					doc.Kernel = kerr.Error()
				}
				if doc.Profiles == nil {
					doc.Profiles = []*rollout.Status{}
				}
				if err := writeJSON(g.Out, doc); err != nil {
					return err
				}
				return refused
			}
			if kerr != nil {
				fmt.Fprintf(g.Out, "kernel: %v\n  (modes below come from the profile files, not the kernel)\n\n", kerr)
			} else if abi != nil {
				fmt.Fprintf(g.Out, "kernel: AppArmor ABI %s\nparser: %s\n\n", abi, parserState(cmd.Context(), g))
			}
			if len(out) == 0 {
				fmt.Fprintln(g.Out, "no profiles managed by aa-flow yet (aa-flow init NAME --exec PATH)")
				return nil
			}
			for i, st := range out {
				if i > 0 {
					fmt.Fprintln(g.Out)
				}
				printStatus(termsafe.Writer(g.Out), st)
			}
			return refused
		},
	}
	gf.register(cmd.Flags())
	return cmd
}

func printStatus(w io.Writer, st *rollout.Status) {
	fmt.Fprintf(w, "%s: %s", st.Name, st.Stage)
	if !st.Since.IsZero() {
		fmt.Fprintf(w, " since %s (%s ago)", st.Since.Local().Format(time.RFC3339), time.Since(st.Since).Round(time.Minute))
	}
	fmt.Fprintln(w)
	if !st.Managed {
		fmt.Fprintf(w, "  not managed by aa-flow (aa-flow init %s --exec PATH, or --adopt)\n", st.Name)
	}
	if st.ProfilePath != "" {
		fmt.Fprintf(w, "  file:     %s (%s mode, revision %d of %d)\n", st.ProfilePath, st.FileMode, st.Revision, st.Revisions)
	}
	if r := st.RollbackTo; r != nil {
		fmt.Fprintf(w, "  rollback: would reinstate revision %d (%s mode, %s)\n", r.N, r.Mode, r.Reason)
	}
	switch {
	case st.Kernel != "":
		fmt.Fprintln(w, "  kernel:   unknown (no AppArmor)")
	case st.Loaded:
		fmt.Fprintf(w, "  kernel:   loaded, %s\n", st.KernelMode)
	default:
		fmt.Fprintln(w, "  kernel:   not loaded")
	}
	if st.Disabled {
		fmt.Fprintln(w, "  disabled: linked in disable/ (aa-flow enable to load it again)")
	}
	if st.ForceComplain {
		fmt.Fprintln(w, "  force-complain/ link present: loaded in complain mode at boot")
	}
	if len(st.Processes) > 0 {
		var ps []string
		for _, p := range st.Processes {
			ps = append(ps, fmt.Sprintf("%d (%s)", p.PID, p.Comm))
		}
		fmt.Fprintf(w, "  confines: %s\n", strings.Join(ps, ", "))
	}
	if !st.EnforceSince.IsZero() && st.Stage != rollout.ModeEnforce {
		fmt.Fprintf(w, "  enforced: last %s\n", st.EnforceSince.Local().Format(time.RFC3339))
	}
	if !st.LastApply.IsZero() {
		fmt.Fprintf(w, "  applied:  %s\n", st.LastApply.Local().Format(time.RFC3339))
	}
	switch {
	case st.Gate != nil && st.Gate.Pass:
		fmt.Fprintf(w, "  gate:     would pass (%d records since the last apply, all covered; evidence %s: the load's record at %s, none lost or cut short, the kernel's lost-record count unchanged)\n",
			st.Gate.Records, st.Gate.Evidence, st.Gate.Loaded.Time.Local().Format(time.RFC3339))
	case st.Gate != nil:
		fmt.Fprintf(w, "  gate:     would refuse: %d uncovered of %d records, evidence %s (%d lost, %d cut short), window %s\n",
			st.Gate.Uncovered, st.Gate.Records, st.Gate.Evidence, st.Gate.Lost, st.Gate.Malformed, st.Gate.Window.Round(time.Second))
		for _, r := range st.Gate.Reasons {
			fmt.Fprintf(w, "            - %s\n", r)
		}
	case st.GateErr != "":
		fmt.Fprintf(w, "  gate:     unknown: %s\n", st.GateErr)
	}
	if st.Gate != nil && st.Gate.Refused > 0 {
		fmt.Fprintf(w, "  refused:  %d lines that read like records but are not the kernel's (not evidence either way)\n", st.Gate.Refused)
	}
	for _, p := range st.Problems {
		fmt.Fprintf(w, "  problem:  %s\n", p)
	}
}
