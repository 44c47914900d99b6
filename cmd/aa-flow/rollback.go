package main

import (
	"github.com/spf13/cobra"
)

func newRollbackCmd(g *globalOptions) *cobra.Command {
	var (
		to          int
		dry, noLoad bool
	)
	cmd := &cobra.Command{
		Use:   "rollback NAME [--to REV]",
		Short: "Reinstate the previous (or a named) revision of a profile",
		Long: `rollback writes an earlier revision back to the profile file and reloads it.
It is stored as a new revision: history is append-only, so a rollback can
itself be rolled back (with --to).

Without --to it goes one step back from the version the profile file holds:
to the newest earlier revision with different text. After a rollback, one
step back is measured from the revision it reinstated, so rolling back again
keeps going back instead of undoing the rollback: revisions 1, 2, 3 and a
rollback (revision 4, a copy of 2) go back to 1 next, not to 3.
aa-flow history NAME lists the revisions.`,
		Example: `  aa-flow rollback nginx
  aa-flow rollback nginx --to 3`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to < 0 {
				return usagef("--to %d: revisions are numbered from 1", to)
			}
			if err := managed(g, args[0]); err != nil {
				return err
			}
			h := newHost(g, dry)
			r, err := h.Rollback(cmd.Context(), args[0], to, !noLoad)
			if err != nil {
				return err
			}
			return g.done(actionResult{Profile: args[0], Action: "rollback", DryRun: dry, Loaded: !noLoad && !dry, Revision: &r},
				"%s: %s, now revision %d (%s mode)\n", args[0], r.Reason, r.N, r.Mode)
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the revision to reinstate (default: one step back, see above)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print each file write and apparmor_parser command, change nothing")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "write the file but do not reload it")
	return cmd
}
