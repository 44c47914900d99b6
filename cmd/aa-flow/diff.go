package main

import (
	"github.com/spf13/cobra"
)

func newDiffCmd(g *globalOptions) *cobra.Command {
	var profileFile string
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Show the pending proposal again (a diff of the profile file)",
		Long: `diff shows the proposal the last learn saved, as a unified diff of the
current profile file with every proposed rule added; each added line says its
rule ID, severity and how many records asked for it. --json prints the
proposal itself (rules, literal alternatives, severity, evidence, counts).`,
		Example: `  aa-flow diff nginx
  aa-flow diff nginx --json | jq '.rules[] | select(.severity >= 7)'`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, prop, err := loadPending(g, args[0], profileFile)
			if err != nil {
				return err
			}
			return showProposal(g, t, prop)
		},
	}
	cmd.Flags().StringVar(&profileFile, "profile-file", "", "the profile file, when it is not managed by aa-flow")
	return cmd
}
