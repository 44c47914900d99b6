package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newComplainCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "complain",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("complain: not implemented yet")
		},
	}
}
