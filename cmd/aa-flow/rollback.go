package main

import (
	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/rollout"
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

Without --to it goes one step back from the revision the profile file
holds: to the newest earlier revision whose text differs. Every change is a
step, a mode switch too: after enforce and then complain, one step back is
the enforce revision, so the rollback enforces the profile again, without
the gate (it warns when it does). For example, with revisions

  1 init (complain)  2 apply (complain)  3 enforce  4 complain

rollback reinstates 3, in enforce mode, as revision 5; to undo the learned
rules instead, name the revision: rollback --to 1. After a rollback, one
step back is measured from the revision it reinstated, so rolling back again
keeps going back instead of undoing the rollback: revisions 1, 2, 3 and a
rollback (revision 4, a copy of 2) go back to 1 next, not to 3.

status NAME shows the revision a rollback would reinstate ("rollback: would
reinstate revision 3 (enforce mode, ...)"), and rollback --dry-run names it
and changes nothing. aa-flow history NAME lists the revisions.`,
		Example: `  aa-flow status nginx              # rollback: would reinstate revision ...
  aa-flow rollback nginx --dry-run
  aa-flow rollback nginx
  aa-flow rollback nginx --to 3`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to < 0 {
				return usagef("--to %d: revisions are numbered from 1", to)
			}
			if err := managed(g, args[0]); err != nil {
				return err
			}
			name := args[0]
			h := newHost(g, dry)
			cur, known, err := h.CurrentRevision(name)
			if err != nil {
				return err
			}
			r, err := h.Rollback(cmd.Context(), name, to, !noLoad)
			if err != nil {
				return err
			}
			if known && cur.Mode == rollout.ModeComplain && r.Mode == rollout.ModeEnforce {
				g.warn("%s is in complain mode and revision %d is in enforce mode: the rollback enforces it again, without the gate (aa-flow history %s lists the revisions, rollback --to N reinstates another)", name, r.RollbackOf, name)
			}
			target, err := h.RollbackTarget(name, r.RollbackOf)
			if err != nil {
				return err
			}
			if dry {
				g.info("%s: rollback would reinstate revision %d (%s mode, %s) as a new revision\n", name, target.N, target.Mode, target.Reason)
			}
			return g.done(actionResult{Profile: name, Action: "rollback", DryRun: dry, Loaded: !noLoad && !dry, Revision: &r, RollbackTo: &target},
				"%s: %s, now revision %d (%s mode)\n", name, r.Reason, r.N, r.Mode)
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the revision to reinstate (default: one step back, see above)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print each file write and apparmor_parser command, change nothing")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "write the file but do not reload it")
	return cmd
}
