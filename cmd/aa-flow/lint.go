package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newLintCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "lint",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("lint: not implemented yet")
		},
	}
}
