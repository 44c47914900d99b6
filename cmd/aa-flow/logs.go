package main

import (
	"bufio"
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/logview"
)

type logsFlags struct {
	From    []string
	Since   string
	Follow  bool
	Mode    string
	Summary bool
}

func newLogsCmd(g *globalOptions) *cobra.Command {
	var lf logsFlags
	cmd := &cobra.Command{
		Use:   "logs [PROFILE]",
		Short: "Show the AppArmor records the kernel logged",
		Long: `Show the AppArmor records the kernel logged, one line per record, then a
summary on stderr: records by profile and mode, lines skipped, malformed
lines, and records lost before they reached the log (with what to change).

Without --from, the host's log is found: auditd's log when auditd runs, else
journald, else /var/log/kern.log, syslog or messages, else /dev/kmsg; the
choice is printed on stderr. Rotated files (NAME.1, NAME.2.gz) are read
with --since.

` + kernelRecordsHelp + `, and counted as refused in the
summary.

Examples:
  aa-flow logs                           every record in the host's log
  aa-flow logs nginx --since 2h          nginx's records (and its children's) of the last two hours
  aa-flow logs --from /var/log/audit/audit.log --mode denied
  aa-flow logs --follow                  new records as they are written
  aa-flow logs --from big.log --summary  counts only
  aa-flow logs --json | jq .name         one JSON object per record`,
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			profile := ""
			if len(args) == 1 {
				profile = args[0]
			}
			return runLogs(cmd.Context(), g, lf, profile)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&lf.From, "from", nil, "log file to read (repeatable; - for stdin; .gz read transparently)")
	f.StringVar(&lf.Since, "since", "", sinceHelp)
	f.BoolVarP(&lf.Follow, "follow", "f", false, "keep printing new records until interrupted")
	f.StringVar(&lf.Mode, "mode", "all", "denied, allowed or all")
	f.BoolVar(&lf.Summary, "summary", false, "print only the counts")
	return cmd
}

func runLogs(ctx context.Context, g *globalOptions, lf logsFlags, profile string) error {
	mode, err := logview.ParseModeFilter(lf.Mode)
	if err != nil {
		return usagef("--mode: %v", err)
	}
	since, err := parseSince(lf.Since)
	if err != nil {
		return err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	if lf.Follow {
		var stop context.CancelFunc
		ctx, stop = signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
	}
	out := bufio.NewWriterSize(g.Out, 64<<10)
	defer out.Flush()
	p := &logview.Printer{Color: colorFor(g, g.Out), Loc: time.Local}
	var shown audit.Tally
	opt := audit.ReadOptions{
		From: lf.From, Since: since, Follow: lf.Follow, Profile: profile,
		Log: g.logw(), Stdin: g.In,
	}
	if !lf.Follow && (lf.Summary || !isTerminal(g.Out)) {
		// not while records stream to the same terminal
		opt.Progress = readProgress(g)
	}
	res, err := audit.Read(ctx, opt, func(e *audit.Event) error {
		if !mode.Keep(e) {
			return nil
		}
		shown.Add(e.ProfileName(), e.Mode)
		switch {
		case lf.Summary:
			return nil
		case g.JSON:
			b, err := e.MarshalJSON()
			if err != nil {
				return err
			}
			out.Write(b)
			return out.WriteByte('\n')
		default:
			out.WriteString(p.Line(e))
			if err := out.WriteByte('\n'); err != nil {
				return err
			}
			if lf.Follow {
				return out.Flush()
			}
			return nil
		}
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if res != nil {
		if lf.Summary && g.JSON {
			writeSummaryJSON(g, res, shown.Counts())
		} else {
			w := g.Out
			if !lf.Summary {
				w = g.logw()
			}
			logview.WriteSummary(w, res, shown.Counts(), colorFor(g, w))
		}
	}
	return err
}

func writeSummaryJSON(g *globalOptions, res *audit.Result, shown map[string]map[audit.Mode]int) {
	st := res.Stats
	v := map[string]any{
		"sources":     res.Sources,
		"by_profile":  shown,
		"lines":       st.Lines,
		"records":     st.Records,
		"companions":  st.Companions,
		"skipped":     st.Skipped,
		"duplicates":  st.Duplicates,
		"malformed":   st.MalformedTotal,
		"refused":     st.RefusedBy,
		"lost":        st.Lost,
		"first_error": firstMalformed(st),
	}
	_ = writeJSON(g.Out, v)
}

func firstMalformed(st audit.Stats) any {
	if len(st.Malformed) == 0 {
		return nil
	}
	return st.Malformed[0]
}
