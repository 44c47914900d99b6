package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newFmtCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "fmt",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("fmt: not implemented yet")
		},
	}
}
