package main

import (
	"github.com/spf13/cobra"
)

func newReviewCmd(g *globalOptions) *cobra.Command {
	var (
		profileFile string
		noLoad, dry bool
	)
	cmd := &cobra.Command{
		Use:   "review NAME",
		Short: "Review the pending proposal rule by rule, then apply what you accepted",
		Long: `review reopens the interactive review of the proposal the last learn saved.
For each rule, highest severity first, it shows the rule, its severity and its
evidence, and asks:

  y  accept (Enter)   n  reject   l  the literal rules instead of the glob
  A  accept the rest  N  reject the rest   q  stop (the rest are rejected)

then asks before writing. Accepted rules are written before the profile's
closing brace, validated, stored as a new revision and reloaded.`,
		Example: `  aa-flow review nginx`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, prop, err := loadPending(g, args[0], profileFile)
			if err != nil {
				return err
			}
			if err := showProposal(g, t, prop); err != nil || len(prop.Rules) == 0 {
				return err
			}
			return reviewAndApply(cmd.Context(), g, t, prop, noLoad, dry)
		},
	}
	cmd.Flags().StringVar(&profileFile, "profile-file", "", "the profile file, when it is not managed by aa-flow")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "write the file but do not reload it")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print what would be written and loaded, change nothing")
	return cmd
}
