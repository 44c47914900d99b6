package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/internal/manpage"
)

// manSection is where aa-flow's pages go: administration commands, beside
// apparmor_parser(8) and aa-logprof(8).
const manSection = "8"

// manExtra are the root page's sections beyond what the commands' help
// says (the exit status and environment are in the root's help).
var manExtra = []manpage.Section{
	{Title: "Files", Body: `  /etc/apparmor.d/NAME                       the profile (--profile-dir)
  /etc/apparmor.d/local/NAME                 site additions, included if it exists
  /var/lib/aa-flow/NAME/revisions/           every version aa-flow wrote (--state-dir)
  /var/lib/aa-flow/NAME/proposal.json        the pending proposal, with evidence
  /var/lib/aa-flow/NAME/journal.jsonl        stage transitions and the gate's evidence
  /sys/kernel/security/apparmor/             the kernel's profiles and features (--securityfs)`},
}

// newManpagesCmd writes the manual, one page per command; make install
// runs it. Hidden: it is for packaging, not for users.
func newManpagesCmd(g *globalOptions) *cobra.Command {
	var date string
	cmd := &cobra.Command{
		Use:    "manpages DIR",
		Short:  "Write the manual pages (aa-flow.8, aa-flow-learn.8, ...) into DIR",
		Hidden: true,
		Args:   exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if date == "" {
				date = pageDate()
			}
			files, err := manpage.WriteTree(cmd.Root(), args[0], manpage.Options{
				Section: manSection, Date: date, Source: "aa-flow " + buildVersion(), Manual: "aa-flow manual",
				Sections: manExtra, SeeAlso: []string{"apparmor(7)", "apparmor.d(5)", "apparmor_parser(8)", "aa-logprof(8)"},
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(g.Out, "wrote %d manual pages to %s\n", len(files), args[0])
			return err
		},
	}
	cmd.Flags().StringVar(&date, "date", "", "the pages' date, YYYY-MM-DD (default: SOURCE_DATE_EPOCH, else today)")
	return cmd
}

// pageDate is SOURCE_DATE_EPOCH's day when set (reproducible builds), else
// today's.
func pageDate() string {
	t := time.Now()
	if s, err := strconv.ParseInt(os.Getenv("SOURCE_DATE_EPOCH"), 10, 64); err == nil {
		t = time.Unix(s, 0)
	}
	return t.UTC().Format("2006-01-02")
}
