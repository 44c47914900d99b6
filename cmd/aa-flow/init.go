package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newInitCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "init",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("init: not implemented yet")
		},
	}
}
