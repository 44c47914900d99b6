package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newEnforceCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "enforce",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("enforce: not implemented yet")
		},
	}
}
