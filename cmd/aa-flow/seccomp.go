package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/harden"
	"github.com/aa-flow/aa-flow/learn"
	"github.com/aa-flow/aa-flow/seccomp"
	"github.com/aa-flow/aa-flow/store"
)

func newSeccompCmd(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "seccomp",
		Short: "Learn a container's seccomp allow-list the way AppArmor profiles are learned",
		Long: `seccomp takes a container from Docker's default seccomp profile to an
allow-list of the syscalls its workload makes, by the runbook's route:

  aa-flow seccomp init NAME       the default profile with every allowed call
                                  logged (SCMP_ACT_LOG) instead: nothing new is
                                  refused, each call is recorded
  docker run --security-opt seccomp=/var/lib/aa-flow/NAME/seccomp.json ...
  (run the real workload)
  aa-flow seccomp learn NAME      the calls the kernel logged, as a diff of the
                                  allow-list; --yes (or seccomp apply) takes them
  aa-flow seccomp enforce NAME    once the window shows nothing new: allow the
                                  learned calls, refuse the rest with EPERM
  (recreate the container: docker reads the file when it creates one)
  aa-flow seccomp verify NAME CONTAINER   docker inspect shows this profile
  aa-flow seccomp rollback NAME [--default]

The records are the kernel's SECCOMP records (type 1326), read from the same
places and with the same trust as learn's AppArmor records. NAME is usually
the container's AppArmor profile: records whose subj= label is that profile
or one of its children (NAME//...) are the container's, and runc's init's
(comm runc:[2:INIT]) once the same process is seen under it (--subject
names another label, --all-subjects takes every record).`,
	}
	cmd.AddCommand(newSeccompInitCmd(g), newSeccompLearnCmd(g), newSeccompApplyCmd(g), newSeccompEnforceCmd(g),
		newSeccompRollbackCmd(g), newSeccompStatusCmd(g), newSeccompVerifyCmd(g))
	return cmd
}

func keeper(g *globalOptions) *seccomp.Keeper {
	return &seccomp.Keeper{Store: &store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}}
}

// recordFlags choose where records come from and whose they are.
type recordFlags struct {
	from        []string
	subject     string
	allSubjects bool
}

func (rf *recordFlags) add(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringArrayVar(&rf.from, "from", nil, "read records from FILE (repeatable; - for stdin; default: the host's own log)")
	f.StringVar(&rf.subject, "subject", "", "the AppArmor label whose records are the container's (default NAME)")
	f.BoolVar(&rf.allSubjects, "all-subjects", false, "take every SECCOMP record, whatever its subj=")
}

// records reads SECCOMP records through the audit readers.
func (rf *recordFlags) records(g *globalOptions) seccomp.Records {
	return func(ctx context.Context, since time.Time, fn func(seccomp.Record) error) (int64, error) {
		res, err := audit.Read(ctx, audit.ReadOptions{From: rf.from, Since: since, Seccomp: true, Log: g.logw(), Stdin: g.In}, func(e *audit.Event) error {
			if r, ok := seccomp.FromEvent(e); ok {
				return fn(r)
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
		return int64(learn.LostCount(res.Stats.Lost, since)), nil
	}
}

func (rf *recordFlags) keep(name string) func(seccomp.Record) bool {
	if rf.allSubjects {
		return nil
	}
	subj := rf.subject
	if subj == "" {
		subj = name
	}
	return seccomp.Container(subj)
}

func newSeccompInitCmd(g *globalOptions) *cobra.Command {
	var (
		from  string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "init NAME",
		Short: "Write the learning profile: Docker's default, allowed calls logged",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			var base []byte
			if from != "" {
				b, err := os.ReadFile(from)
				if err != nil {
					return err
				}
				base = b
			}
			k := keeper(g)
			rev, err := k.Init(name, base, force)
			if err != nil {
				return err
			}
			path, _ := k.Path(name)
			rev.Path = path
			return g.done(actionResult{Profile: name, Action: "seccomp-init", Revision: &rev},
				"seccomp %s: revision %d (%s) written to %s\nrun the container with it, under its real workload:\n  docker run --security-opt apparmor=%s --security-opt seccomp=%s IMAGE\nthen: aa-flow seccomp learn %s\n",
				name, rev.N, rev.Mode, path, name, path, name)
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "start from this profile instead of Docker's default")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing seccomp profile (it stays a revision)")
	return cmd
}

func newSeccompLearnCmd(g *globalOptions) *cobra.Command {
	var (
		rf         recordFlags
		since      string
		yes, check bool
	)
	cmd := &cobra.Command{
		Use:   "learn NAME",
		Short: "Propose the syscalls the kernel logged as a diff of the allow-list",
		Long: `learn reads the SECCOMP records logged since the learning window began
(init, the last apply or rollback), names each syscall for its architecture
and shows the calls not learned yet as a diff of the allow-list, with their
evidence. --yes takes them (as seccomp apply does); without it the proposal
is kept for seccomp apply. Exit 3 when something new was seen.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			k := keeper(g)
			after, err := parseSince(since)
			if err != nil {
				return err
			}
			o, lost, err := k.Observe(cmd.Context(), name, after, rf.records(g), rf.keep(name))
			if err != nil {
				return err
			}
			var (
				p seccomp.Proposal
				l seccomp.Learned
			)
			if p, l, err = k.Propose(name, o, !check); err != nil {
				return err
			}
			if g.JSON {
				enc := json.NewEncoder(g.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(struct {
					Proposal    seccomp.Proposal    `json:"proposal"`
					Observation seccomp.Observation `json:"observation"`
					Lost        int64               `json:"lost"`
				}{p, o, lost}); err != nil {
					return err
				}
			} else {
				writeSeccompProposal(g, name, o, lost, p, l)
			}
			if len(p.Add) == 0 {
				return nil
			}
			if yes && !check {
				l, err := k.Apply(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(g.logw(), "seccomp %s: %d syscall(s) learned in all; the window restarts now\n", name, len(l.Names))
				return nil
			}
			return exitWith(exitNew)
		},
	}
	rf.add(cmd)
	cmd.Flags().StringVar(&since, "since", "", sinceHelp)
	cmd.Flags().BoolVar(&yes, "yes", false, "take every proposed syscall into the allow-list")
	cmd.Flags().BoolVar(&check, "check", false, "report only: print the diff, exit 3 on new calls, write nothing")
	return cmd
}

func writeSeccompProposal(g *globalOptions, name string, o seccomp.Observation, lost int64, p seccomp.Proposal, l seccomp.Learned) {
	ev := map[string]seccomp.Evidence{}
	next := append([]string(nil), l.Names...)
	for _, a := range p.Add {
		ev[a.Name] = a.Evidence
		next = append(next, a.Name)
	}
	kept := ""
	if k := p.Kept(); len(k) > 0 {
		kept = fmt.Sprintf("; kept without a record: %s", strings.Join(k, ", "))
	}
	fmt.Fprintf(g.Out, "seccomp %s: %d record(s), %d syscall(s) seen, %d new%s\n", name, o.Records, len(o.Seen), len(p.Add), kept)
	if len(p.Add) > 0 {
		sort.Strings(next)
		fmt.Fprint(g.Out, seccomp.Diff(l.Names, next, ev))
	}
	for _, s := range o.Refused {
		g.warn("refused even while learning (the starting profile does not allow it): %s", s)
	}
	for _, s := range o.Unmapped {
		g.warn("not learned: %s", s)
	}
	for _, n := range p.Outside {
		g.warn("not learned: %s is not in the learning profile", n)
	}
	if o.Untied > 0 {
		g.warn("%d record(s) said comm=runc:[2:INIT] but their process was never seen under %s: not taken as the container's", o.Untied, name)
	}
	if lost > 0 {
		g.warn("%d audit records were lost; the calls they showed are missing here", lost)
	}
	if o.Records == 0 {
		g.warn("no SECCOMP record for %s: is the container running with the learning profile (aa-flow seccomp status %s), and are its records labelled subj=%s (else --subject or --all-subjects)?", name, name, name)
	}
}

func newSeccompApplyCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "apply NAME",
		Short: "Take the pending proposal into the learned allow-list",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := keeper(g).Apply(args[0])
			if err != nil {
				return err
			}
			return g.done(actionResult{Profile: args[0], Action: "seccomp-apply", Rules: len(l.Names)},
				"seccomp %s: %d syscall(s) learned; the window restarts now\n", args[0], len(l.Names))
		},
	}
}

func newSeccompEnforceCmd(g *globalOptions) *cobra.Command {
	var (
		rf       recordFlags
		quietFor time.Duration
		force    bool
	)
	cmd := &cobra.Command{
		Use:   "enforce NAME",
		Short: "Allow the learned syscalls and refuse the rest (EPERM), once the window is clean",
		Long: `enforce narrows the profile to the learned allow-list: the learning
profile's logged calls that were learned are allowed, everything else falls
to the default action, SCMP_ACT_ERRNO (EPERM). The gate refuses (exit 4)
while the window since the last apply is shorter than --quiet-for, shows a
call not learned, a call refused or unnamed, lost records, or no record at
all (a learning profile logs every call: silence means the logs do not show
the container). Docker reads the file when a container is created: recreate
the container to apply the change.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			k := keeper(g)
			rep, rev, err := k.Enforce(cmd.Context(), name, rf.records(g), rf.keep(name), quietFor, force)
			path, _ := k.Path(name)
			if g.JSON && (rep != nil || err == nil) {
				// One document: the gate's report, and the revision
				// written when it opened.
				doc := seccompEnforced{GateReport: rep}
				if err == nil {
					rev.Path = path
					doc.Revision = &rev
				}
				if jerr := writeJSON(g.Out, doc); jerr != nil {
					return jerr
				}
			}
			if errors.Is(err, seccomp.ErrGateRefused) {
				for _, r := range rep.Reasons {
					fmt.Fprintf(g.logw(), "gate: %s\n", r)
				}
				return withCode(exitRefused, err)
			}
			if err != nil || g.JSON {
				return err
			}
			fmt.Fprintf(g.Out, "seccomp %s: revision %d (%s) written to %s\nrecreate the container to apply it, then: aa-flow seccomp verify %s CONTAINER\n", name, rev.N, rev.Mode, path, name)
			return nil
		},
	}
	rf.add(cmd)
	quietFor = 24 * time.Hour
	cmd.Flags().Var(days{&quietFor}, "quiet-for", "shortest learning window since the last apply (30m, 24h, 3d)")
	cmd.Flags().BoolVar(&force, "force", false, "skip the gate (journalled)")
	return cmd
}

// seccompEnforced is seccomp enforce's --json document.
type seccompEnforced struct {
	*seccomp.GateReport
	Revision *store.Revision `json:"revision,omitempty"`
}

func newSeccompRollbackCmd(g *globalOptions) *cobra.Command {
	var (
		to        int
		toDefault bool
	)
	cmd := &cobra.Command{
		Use:   "rollback NAME [--to REV | --default]",
		Short: "Write an earlier revision back, or Docker's default profile (the baseline)",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if to != 0 && toDefault {
				return usagef("--to and --default exclude each other")
			}
			k := keeper(g)
			rev, err := k.Rollback(args[0], to, toDefault)
			if err != nil {
				return err
			}
			path, _ := k.Path(args[0])
			rev.Path = path
			more := ""
			if toDefault {
				more = "(or drop the seccomp option: Docker's default profile applies; never seccomp=unconfined)\n"
			}
			return g.done(actionResult{Profile: args[0], Action: "seccomp-rollback", Revision: &rev},
				"seccomp %s: revision %d (%s) written to %s; recreate the container to apply it\n%s", args[0], rev.N, rev.Mode, path, more)
		},
	}
	cmd.Flags().IntVar(&to, "to", 0, "the revision to write back (default: the one before)")
	cmd.Flags().BoolVar(&toDefault, "default", false, "write Docker's default profile")
	return cmd
}

func newSeccompStatusCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "status NAME",
		Short: "The seccomp profile's mode, revision, learned calls and inline hash",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := keeper(g).Status(args[0])
			if err != nil {
				return err
			}
			if g.JSON {
				enc := json.NewEncoder(g.Out)
				enc.SetIndent("", "  ")
				return enc.Encode(s)
			}
			fmt.Fprintf(g.Out, "%s: %s, revision %d since %s, %d syscall(s) learned, %d pending\n  file %s\n  inline sha256 %s\n",
				s.Name, s.Mode, s.Revision, s.Since.Format(time.RFC3339), s.Learned, s.Pending, s.Path, s.SHA256)
			return nil
		},
	}
}

func newSeccompVerifyCmd(g *globalOptions) *cobra.Command {
	var inspectFile, dockerBin string
	cmd := &cobra.Command{
		Use:   "verify NAME (CONTAINER | --inspect FILE|-)",
		Short: "Check that a container runs the seccomp profile aa-flow keeps for NAME",
		Long: `verify compares the seccomp profile docker inspect shows inlined in
HostConfig.SecurityOpt with NAME's profile file, by hash. Exit 0 when they
are the same, 1 otherwise (docker reads the file only when it creates a
container: recreate it after enforce or rollback). With --json the output
is one document: {"profile", "revision", "mode", "sha256", "ok",
"containers": [{"name", "ok", "sha256", "detail"}]}.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if (inspectFile == "") != (len(args) == 2) || len(args) < 1 || len(args) > 2 {
				return usagef("verify takes NAME and CONTAINER, or NAME and --inspect FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			s, err := keeper(g).Status(name)
			if err != nil {
				return err
			}
			var data []byte
			if inspectFile != "" {
				data, err = readFileOrStdin(g, inspectFile)
			} else {
				data, err = runDocker(dockerBin, "inspect", "--type", "container", args[1])
			}
			if err != nil {
				return err
			}
			opts, err := harden.SecurityOptsFromInspect(data)
			if err != nil {
				return err
			}
			v := seccompVerified{Profile: name, Revision: s.Revision, Mode: s.Mode, SHA256: s.SHA256, OK: true}
			names := make([]string, 0, len(opts))
			for c := range opts {
				names = append(names, c)
			}
			sort.Strings(names)
			for _, c := range names {
				h, ok, err := seccomp.InspectHash(opts[c])
				if err != nil {
					return fmt.Errorf("%s: %w", c, err)
				}
				vc := verifiedContainer{Name: c, SHA256: h, OK: ok && h == s.SHA256}
				switch {
				case !ok:
					vc.Detail = "no custom seccomp profile (Docker's default, or unconfined)"
				case !vc.OK:
					vc.Detail = fmt.Sprintf("runs a seccomp profile with sha256 %s, not %s's %s (%s): recreate the container", h, name, s.SHA256, s.Mode)
				default:
					vc.Detail = fmt.Sprintf("runs %s's seccomp profile, revision %d (%s), sha256 %s", name, s.Revision, s.Mode, h)
				}
				v.OK = v.OK && vc.OK
				v.Containers = append(v.Containers, vc)
			}
			if g.JSON {
				err = writeJSON(g.Out, v)
			} else {
				for _, vc := range v.Containers {
					mark := "✓"
					if !vc.OK {
						mark = "✗"
					}
					fmt.Fprintf(g.Out, "%s %s: %s\n", mark, vc.Name, vc.Detail)
				}
			}
			if err != nil {
				return err
			}
			if !v.OK {
				return exitWith(exitError)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&inspectFile, "inspect", "", "read docker inspect JSON from FILE (- for stdin)")
	cmd.Flags().StringVar(&dockerBin, "docker", "docker", "the docker CLI")
	return cmd
}

// seccompVerified is seccomp verify's result (its --json document): NAME's
// profile, and for each container whether it runs that profile.
type seccompVerified struct {
	Profile    string              `json:"profile"`
	Revision   int                 `json:"revision"`
	Mode       string              `json:"mode"`
	SHA256     string              `json:"sha256"` // of the profile as docker inspect inlines it
	OK         bool                `json:"ok"`     // every container runs it
	Containers []verifiedContainer `json:"containers"`
}

type verifiedContainer struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	SHA256 string `json:"sha256,omitempty"` // the profile it runs; none when not a custom one
	Detail string `json:"detail"`
}
