package main

import (
	"github.com/spf13/cobra"
)

func newComplainCmd(g *globalOptions) *cobra.Command {
	var dry, noLoad bool
	cmd := &cobra.Command{
		Use:   "complain NAME",
		Short: "Put a profile (and its hats and children) back in complain mode",
		Long: `complain adds complain to the flags of the profile and of every child profile
and hat (an edit of the flags only: comments and layout are kept), stores the
result as a new revision and reloads it. A new complain window starts: the
enforce gate only looks at records logged from now on. A profile already in
complain mode is reloaded as it is (no new revision) and its window restarts
too: the reload is what makes the kernel log the STATUS record the gate needs
at a window's start. With --no-load nothing is reloaded and no window starts.`,
		Example: `  aa-flow complain nginx`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := managed(g, args[0]); err != nil {
				return err
			}
			h := newHost(g, dry)
			r, err := h.Complain(cmd.Context(), args[0], !noLoad)
			if err != nil {
				return err
			}
			return g.done(actionResult{Profile: args[0], Action: "complain", DryRun: dry, Loaded: !noLoad && !dry, Revision: &r},
				"%s: complain mode (revision %d)\n", args[0], r.N)
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print each file write and apparmor_parser command, change nothing")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "edit the file but do not reload it")
	return cmd
}
