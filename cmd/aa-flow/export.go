package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newExportCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "export",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("export: not implemented yet")
		},
	}
}
