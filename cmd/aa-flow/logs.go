package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newLogsCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "logs",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("logs: not implemented yet")
		},
	}
}
