package main

import (
	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/progress"
)

// readProgress is the progress display of a long read: on standard error
// when it is a terminal, never under --json or --quiet. nil means none.
func readProgress(g *globalOptions) func(audit.Progress) {
	if g.JSON || g.Quiet || !isTerminal(g.Err) || g.Getenv("TERM") == "dumb" {
		return nil
	}
	return progress.New(g.Err).Func()
}
