package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newHistoryCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "history",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("history: not implemented yet")
		},
	}
}
