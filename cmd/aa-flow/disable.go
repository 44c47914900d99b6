package main

import (
	"github.com/spf13/cobra"
)

func newDisableCmd(g *globalOptions) *cobra.Command {
	var dry bool
	cmd := &cobra.Command{
		Use:   "disable NAME",
		Short: "Unload a profile and keep it from loading at boot",
		Long: `disable links the profile into the profile directory's disable/ folder (so it
is not loaded at boot, as aa-disable does) and unloads it with
apparmor_parser -R. The file and its history are kept; aa-flow enable NAME
reverses it.`,
		Example: `  aa-flow disable nginx`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := managed(g, args[0]); err != nil {
				return err
			}
			if err := newHost(g, dry).Disable(cmd.Context(), args[0]); err != nil {
				return err
			}
			if dry && !g.JSON {
				return nil
			}
			return g.done(actionResult{Profile: args[0], Action: "disabled", DryRun: dry},
				"%s: disabled (unloaded; not loaded at boot)\n", args[0])
		},
	}
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print each file change and apparmor_parser command, change nothing")
	return cmd
}
