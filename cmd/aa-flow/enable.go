package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newEnableCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "enable",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("enable: not implemented yet")
		},
	}
}
