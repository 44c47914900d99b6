package main

import (
	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/propose"
)

func newApplyCmd(g *globalOptions) *cobra.Command {
	var (
		sel         propose.Selection
		profileFile string
		noLoad, dry bool
	)
	cmd := &cobra.Command{
		Use:   "apply NAME (--all | --only IDS | --except IDS) [--literal IDS]",
		Short: "Write accepted rules of the pending proposal into the profile",
		Long: `apply writes rules of the proposal the last learn saved into the profile file:
as text just before the profile's closing brace (hats' rules before theirs),
under a "# learned by aa-flow DATE" comment, leaving everything else in the
file as it was. The result is validated with apparmor_parser -Q -K, written
atomically as a new revision, and reloaded (apparmor_parser -r -W) unless
--no-load. Rule IDs are those diff shows (r1, r2, ...); --literal IDS writes
the literal rules instead of a suggested glob. A held rule (a pattern rated
9-10 that reaches further than its records) is never taken by --all or
--except: name it with --only or --accept IDS. Applied rules leave the pending
proposal.`,
		Example: `  aa-flow apply nginx --all
  aa-flow apply nginx --only r1,r2,r5 --literal r2
  aa-flow apply nginx --except r3 --dry-run`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !sel.All && len(sel.Only) == 0 && len(sel.Except) == 0 && len(sel.Literal) == 0 && len(sel.Accept) == 0 {
				return usagef("say which rules: --all, --only IDS or --except IDS (see aa-flow diff %s)", args[0])
			}
			t, prop, err := loadPending(g, args[0], profileFile)
			if err != nil {
				return err
			}
			d, err := prop.Decide(sel)
			if err != nil {
				return err // a rule ID the proposal does not have: data, not usage
			}
			if sel.All || len(sel.Except) > 0 {
				warnHeld(g, t.Name, prop, d)
			}
			return applyDecisions(cmd.Context(), g, t, prop, d, noLoad, dry)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&sel.All, "all", false, "apply every rule")
	f.StringSliceVar(&sel.Only, "only", nil, "apply only these rule IDs (comma-separated)")
	f.StringSliceVar(&sel.Except, "except", nil, "apply every rule but these IDs")
	f.StringSliceVar(&sel.Literal, "literal", nil, "for these IDs, write the literal rules instead of the suggested glob")
	f.StringSliceVar(&sel.Accept, "accept", nil, "also apply these held rules (patterns rated 9-10 that --all leaves pending)")
	f.StringVar(&profileFile, "profile-file", "", "the profile file, when it is not managed by aa-flow")
	f.BoolVar(&noLoad, "no-load", false, "write the file but do not reload it")
	f.BoolVar(&dry, "dry-run", false, "print what would be written and loaded, change nothing")
	return cmd
}
