package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newApplyCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "apply",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("apply: not implemented yet")
		},
	}
}
