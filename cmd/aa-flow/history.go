package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

func newHistoryCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "history NAME",
		Short: "List the stored revisions of a profile",
		Long: `history lists every version of the profile aa-flow wrote or found, oldest
first, with time, user, mode and reason. The current file is marked with '*'
(none is marked when the file was edited outside aa-flow).`,
		Example: `  aa-flow history nginx
  aa-flow history nginx --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			h := newHost(g, false)
			if _, err := h.Store.Meta(name); err != nil {
				return err
			}
			revs, err := h.Store.Revisions(name)
			if err != nil {
				return err
			}
			cur, _, _ := h.CurrentRevision(name)
			if g.JSON {
				type row struct {
					N       int       `json:"n"`
					Time    time.Time `json:"time"`
					Reason  string    `json:"reason"`
					Mode    string    `json:"mode"`
					User    string    `json:"user"`
					SHA256  string    `json:"sha256"`
					Current bool      `json:"current"`
				}
				rows := []row{}
				for _, r := range revs {
					rows = append(rows, row{r.N, r.Time, r.Reason, r.Mode, r.User, r.SHA256, r.N == cur.N})
				}
				return writeJSON(g.Out, rows)
			}
			tw := tabwriter.NewWriter(g.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "REV\tTIME\tUSER\tMODE\tREASON")
			for _, r := range revs {
				mark := " "
				if r.N == cur.N {
					mark = "*"
				}
				fmt.Fprintf(tw, "%s%d\t%s\t%s\t%s\t%s\n", mark, r.N, r.Time.Local().Format("2006-01-02 15:04:05"), r.User, r.Mode, r.Reason)
			}
			return tw.Flush()
		},
	}
}
