package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newStatusCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "status",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("status: not implemented yet")
		},
	}
}
