package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newRollbackCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "rollback",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("rollback: not implemented yet")
		},
	}
}
