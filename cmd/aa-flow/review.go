package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder until the owning issue lands; replaced wholesale.
func newReviewCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:    "review",
		Hidden: true,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("review: not implemented yet")
		},
	}
}
