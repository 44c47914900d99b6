package main

import (
	"github.com/spf13/cobra"
)

func newEnableCmd(g *globalOptions) *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use:   "enable NAME",
		Short: "Load a disabled profile again",
		Long: `enable removes the profile's disable/ link and loads it with
apparmor_parser -r -W, then checks the kernel reports it in the mode its flags
ask for.`,
		Example: `  aa-flow enable nginx`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := managed(g, args[0]); err != nil {
				return err
			}
			if err := newHost(g, dry).Enable(cmd.Context(), args[0]); err != nil {
				return err
			}
			if dry && !g.JSON {
				return nil
			}
			return g.done(actionResult{Profile: args[0], Action: "enabled", DryRun: dry, Loaded: !dry},
				"%s: enabled and loaded\n", args[0])
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print each file change and apparmor_parser command, change nothing")
	return cmd
}
