package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/rollout"
)

func newEnforceCmd(g *globalOptions) *cobra.Command {
	var (
		gf                 gateFlags
		force, dry, noLoad bool
	)
	cmd := &cobra.Command{
		Use:   "enforce NAME",
		Short: "Switch a profile to enforce mode once the complain window is clean",
		Long: `enforce is the gate between learning and enforcing. It refuses (exit 4),
saying why and what to do, while:
  - any record for the profile (or its hats and children) that the profile
    does not cover was logged since the last apply;
  - the complain window since the last apply is shorter than --quiet-for;
  - records were lost in that window (rate limits, backlog overflow).
Otherwise it removes complain from the flags of the profile and all its hats
and children (only the flags are edited: comments and layout stay), removes a
force-complain/ link, reloads with apparmor_parser -r -W, and checks the kernel
now reports (enforce). If it does not, the previous revision is restored.

Logs are read from --from FILE (repeatable; /dev/kmsg is read up to its
newest record), or else from every one of /var/log/audit/audit.log,
/var/log/kern.log, /var/log/syslog and /dev/kmsg that is readable (a record
seen in two of them counts once); only records logged since the last apply
count.`,
		Example: `  aa-flow enforce nginx
  aa-flow enforce nginx --quiet-for 2h --from /var/log/audit/audit.log
  aa-flow enforce nginx --dry-run`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			h := newHost(g, dry)
			opts := rollout.EnforceOptions{Force: force, NoLoad: noLoad}
			if !force {
				gate, err := gf.options(g, name)
				if err != nil {
					return err
				}
				opts.Gate = gate
			}
			report, err := h.Enforce(cmd.Context(), name, opts)
			if g.JSON && report != nil {
				enc := json.NewEncoder(g.Out)
				enc.SetIndent("", "  ")
				if jerr := enc.Encode(report); jerr != nil {
					return jerr
				}
			}
			if errors.Is(err, rollout.ErrGateRefused) {
				return withCode(exitRefused, err)
			}
			if err != nil {
				return err
			}
			switch {
			case g.JSON || dry:
			case noLoad:
				fmt.Fprintf(g.Out, "%s: enforce mode in the profile file; not loaded (--no-load)\n", name)
			default:
				fmt.Fprintf(g.Out, "%s: enforce mode, confirmed by the kernel\n", name)
			}
			return nil
		},
	}
	gf.register(cmd.Flags())
	cmd.Flags().BoolVar(&force, "force", false, "skip the gate (the override is journalled)")
	cmd.Flags().BoolVar(&dry, "dry-run", false, "evaluate the gate, print each file write and apparmor_parser command, change nothing")
	cmd.Flags().BoolVar(&noLoad, "no-load", false, "edit the file but do not reload it")
	return cmd
}

// gateFlags are the flags that feed the enforce gate (enforce, status).
type gateFlags struct {
	From     []string
	QuietFor time.Duration
}

func (gf *gateFlags) register(f *pflag.FlagSet) {
	f.StringArrayVar(&gf.From, "from", nil, "log file to read (repeatable; default: the usual log files)")
	f.DurationVar(&gf.QuietFor, "quiet-for", 24*time.Hour, "shortest complain window since the last apply")
}

// defaultLogs are the logs read when no --from is given: all that are
// readable, so behaviour any of them shows blocks the gate.
func defaultLogs() []string {
	return []string{"/var/log/audit/audit.log", "/var/log/kern.log", "/var/log/syslog", "/dev/kmsg"}
}

// options wires the gate to the log files and to a coverage check against
// the profile file as it is now.
func (gf *gateFlags) options(g *globalOptions, name string) (rollout.GateOptions, error) {
	from := gf.From
	if len(from) == 0 {
		for _, p := range defaultLogs() {
			if f, err := os.Open(p); err == nil {
				f.Close()
				from = append(from, p)
			}
		}
		if len(from) == 0 {
			return rollout.GateOptions{}, fmt.Errorf("no log to check the complain window against: none of %s is readable; pass --from FILE (or --force to skip the gate)", strings.Join(defaultLogs(), ", "))
		}
	}
	h := newHost(g, false)
	path, err := h.Store.ProfilePath(name)
	if err != nil {
		return rollout.GateOptions{}, err
	}
	dirs := []string{g.ProfileDir}
	if filepath.Clean(g.ProfileDir) != parser.DefaultIncludeDir {
		dirs = append(dirs, parser.DefaultIncludeDir)
	}
	cov, err := newCoverage(path, dirs)
	if err != nil {
		return rollout.GateOptions{}, err
	}
	return rollout.GateOptions{QuietFor: gf.QuietFor, Events: fileEvents(from), Covered: cov.covered}, nil
}

// fileEvents is a rollout.EventSource over log files: every record logged
// at or after since, and the losses the logs show after the last record
// before since.
func fileEvents(paths []string) rollout.EventSource {
	return func(ctx context.Context, since time.Time, fn func(*audit.Event) error) (rollout.SourceStats, error) {
		d := audit.NewDecoder()
		before := map[string]int{} // per source, the line of the last record before since
		emit := func(evs []*audit.Event) error {
			for _, e := range evs {
				if !e.Time.IsZero() && e.Time.Before(since) {
					before[e.Source] = max(before[e.Source], e.Line)
					continue
				}
				if err := fn(e); err != nil {
					return err
				}
			}
			return nil
		}
		var overwritten int64
		for _, p := range paths {
			if isCharDevice(p) {
				n, err := readKmsg(ctx, p, d, emit)
				if err != nil {
					return rollout.SourceStats{}, err
				}
				overwritten += n
				continue
			}
			if err := readLog(ctx, p, d, emit); err != nil {
				return rollout.SourceStats{}, err
			}
		}
		if err := emit(d.Flush()); err != nil {
			return rollout.SourceStats{}, err
		}
		st := d.Stats()
		out := rollout.SourceStats{Malformed: int64(st.MalformedTotal), Sources: append([]string(nil), paths...), Lost: overwritten}
		for _, l := range st.Lost {
			if l.Kind == "serial-gap" || l.Line <= before[l.Source] {
				continue
			}
			out.Lost += int64(max(l.Count, 1))
		}
		return out, nil
	}
}

func readLog(ctx context.Context, path string, d *audit.Decoder, emit func([]*audit.Event) error) error {
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("read log: %w", err)
		}
		defer f.Close()
		r = f
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		if err := emit(d.Feed(sc.Bytes(), path, n)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read log %s:%d: %w", path, n, err)
	}
	return nil
}

func isCharDevice(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// readKmsg reads the kernel log ring buffer (/dev/kmsg) from its oldest
// record to the newest and returns, instead of waiting for more as a plain
// read would: one record per read(2), non-blocking, until EAGAIN. It
// returns how many times records were overwritten while it read (EPIPE),
// which the gate counts as lost.
func readKmsg(ctx context.Context, path string, d *audit.Decoder, emit func([]*audit.Event) error) (int64, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return 0, fmt.Errorf("read log %s: %w", path, err)
	}
	defer syscall.Close(fd)
	buf := make([]byte, 64<<10) // a read shorter than one record fails with EINVAL
	var overwritten int64
	n := 0
	for {
		if n%4096 == 0 && ctx.Err() != nil {
			return overwritten, ctx.Err()
		}
		k, err := syscall.Read(fd, buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return overwritten, nil
		case errors.Is(err, syscall.EPIPE):
			overwritten++
			continue
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return overwritten, fmt.Errorf("read log %s: %w", path, err)
		case k <= 0:
			return overwritten, nil
		}
		n++
		rec := buf[:k]
		// Dictionary lines (" KEY=value") follow the message.
		if i := bytes.IndexByte(rec, '\n'); i >= 0 {
			rec = rec[:i]
		}
		if err := emit(d.Feed(rec, path, n)); err != nil {
			return overwritten, err
		}
	}
}

// coverage answers "does the profile file as it is now allow what this
// record shows?", per profile or hat named in the record.
type coverage struct {
	file     *profiles.File
	load     profiles.IncludeLoader
	policies map[string]*profiles.Policy
	// seen caches answers by profile and accesses: a log repeats the same
	// few accesses many times.
	seen map[string]bool
}

// maxCoverageCache bounds the answer cache.
const maxCoverageCache = 1 << 16

func newCoverage(path string, includeDirs []string) (*coverage, error) {
	f, err := parser.ParseFile(path)
	if err != nil {
		return nil, err
	}
	r := &parser.Resolver{Dirs: includeDirs}
	return &coverage{file: f, load: r.Load, policies: map[string]*profiles.Policy{}, seen: map[string]bool{}}, nil
}

// covered is true when every access the record shows is allowed. A record
// the learner cannot turn into an access counts as not covered: the gate
// errs on the side of not enforcing. So does a record of a profile the file
// does not define, such as complain mode's "NAME//null-/bin/x" for a program
// NAME ran without an exec rule.
func (c *coverage) covered(e *audit.Event) (bool, error) {
	name := e.ProfileName()
	if c.file.Find(name) == nil {
		return false, nil
	}
	p, ok := c.policies[name]
	if !ok {
		var err error
		p, err = profiles.NewPolicy(c.file, name, c.load)
		if err != nil {
			return false, err
		}
		c.policies[name] = p
	}
	acc := profiles.EventAccesses(e)
	if len(acc) == 0 {
		return false, nil
	}
	key := fmt.Sprintf("%s\x00%+v", name, acc)
	if cached, hit := c.seen[key]; hit {
		return cached, nil
	}
	all := true
	for _, a := range acc {
		if !p.Covers(a) {
			all = false
			break
		}
	}
	if len(c.seen) < maxCoverageCache {
		c.seen[key] = all
	}
	return all, nil
}
