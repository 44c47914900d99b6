package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newDiffCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "diff",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("diff: not implemented yet")
		},
	}
}
