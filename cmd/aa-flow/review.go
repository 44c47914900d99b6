package main

import (
	"bytes"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/review"
)

func newReviewCmd(g *globalOptions) *cobra.Command {
	var (
		profileFile string
		noLoad, dry bool
	)
	cmd := &cobra.Command{
		Use:   "review NAME",
		Short: "Review the pending proposal rule by rule, then apply what you accepted",
		Long: `review reopens the interactive review of the proposal the last learn saved.
For each rule, highest severity first, it shows the rule, its severity and its
evidence, and asks:

  y  accept           n  reject           l  the literal rules instead of the glob
  e  the rule's evidence: the raw records it was learned from (the first 20)
  A  accept the rest  N  reject the rest  q  stop, write nothing (the rest stay pending)

A never takes a held rule (a pattern rated 9-10 that reaches further than its
records): it stays pending, with a line saying why, as with learn --yes; y
takes it.

On a terminal each answer is one key. Enter alone decides nothing. Then it
asks before writing (Enter or q there is no). Accepted rules are written before the profile's
closing brace, validated, stored as a new revision and reloaded.`,
		Example: `  aa-flow review nginx`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if g.JSON {
				return usagef("review asks a person; for tools: aa-flow diff %s --json, then aa-flow apply %s --only IDS", args[0], args[0])
			}
			t, prop, err := loadPending(g, args[0], profileFile)
			if err != nil {
				return err
			}
			if err := showProposal(g, t, prop); err != nil || len(prop.Rules) == 0 {
				return err
			}
			return reviewAndApply(cmd.Context(), g, t, prop, noLoad, dry)
		},
	}
	cmd.Flags().StringVar(&profileFile, "profile-file", "", "the profile file, when it is not managed by aa-flow")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "write the file but do not reload it")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "print what would be written and loaded, change nothing")
	return cmd
}

// reviewOnTerminal runs the interactive review. On a terminal each answer
// is one key: the terminal is put in raw mode for the review and restored
// after, even when it fails.
func reviewOnTerminal(g *globalOptions, prop *propose.Proposal) (propose.Decisions, bool, error) {
	o := review.Options{Color: colorFor(g, g.Out)}
	in, out := g.In, g.Out
	if f, ok := g.In.(*os.File); ok && isTerminal(f) {
		if old, err := term.MakeRaw(int(f.Fd())); err == nil {
			defer term.Restore(int(f.Fd()), old)
			o.Keys = true
			out = crlf{g.Out} // raw mode does not turn \n into \r\n
		}
	}
	return review.Review(in, out, prop, o)
}

// crlf writes to a terminal in raw mode: each \n as \r\n.
type crlf struct{ w io.Writer }

func (c crlf) Write(p []byte) (int, error) {
	if _, err := c.w.Write(bytes.ReplaceAll(p, []byte("\n"), []byte("\r\n"))); err != nil {
		return 0, err
	}
	return len(p), nil
}
