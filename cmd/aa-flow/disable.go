package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newDisableCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "disable",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("disable: not implemented yet")
		},
	}
}
