package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newLearnCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "learn",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("learn: not implemented yet")
		},
	}
}
