package learn

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/rollout"
)

// GateSource says where the enforce gate reads records.
type GateSource struct {
	Dirs
	From  []string  // logs to read; empty: the host's own (audit.Read detects it)
	Log   io.Writer // notes such as which source is read
	Stdin io.Reader // for From "-"
	// Progress, when set, is told how far reading got (a display).
	Progress func(audit.Progress)
}

// GateOptions wires the enforce gate of the managed profile name to the
// logs (through audit.Read) and to the coverage check the learner uses,
// against the profile file as it is when the gate first asks: enforce
// asks with the profile's lock held, so a change made before it took the
// lock (a rollback) is what the gate judges.
func GateOptions(src GateSource, name string, quietFor time.Duration) (rollout.GateOptions, error) {
	path, err := src.store().ProfilePath(name)
	if err != nil {
		return rollout.GateOptions{}, err
	}
	var (
		once sync.Once
		cov  *Coverage
		cerr error
	)
	covered := func(e *audit.Event) (bool, error) {
		once.Do(func() {
			f, err := parser.ParseFile(path)
			if err != nil {
				cerr = err
				return
			}
			cov = NewCoverage(f, parser.ForProfileDir(src.ProfileDir))
		})
		if cerr != nil {
			return false, cerr
		}
		return cov.Event(e)
	}
	return rollout.GateOptions{QuietFor: quietFor, Events: Events(src, name), Covered: covered}, nil
}

// GapCount is how many of the kernel's audit serials are missing from
// auditd's log between records of the window read (audit.Read counts
// serial gaps from its Since on; see audit.Lost and Lost.Auditd: the
// kernel log's gaps stay hints).
func GapCount(lost []audit.Lost) int {
	n := 0
	for _, l := range lost {
		if l.Kind == "serial-gap" && l.Auditd {
			n += max(l.Count, 1)
		}
	}
	return n
}

// Events is a rollout.EventSource over audit.Read: the window's records
// about name (its hats and children too) and the kernel's STATUS records of
// its loads, read as an audit.Window that the reload's STATUS record opens
// (so that a clock set back inside the window hides nothing), with the
// records lost (see LostCount) and the malformed lines (see
// audit.Stats.MalformedSince) in the window, and the serial gaps (GapCount)
// from its start.
func Events(src GateSource, name string) rollout.EventSource {
	return func(ctx context.Context, w rollout.Window, fn func(*audit.Event) error) (rollout.SourceStats, error) {
		// A load's STATUS record is the parser's (profile="unconfined"),
		// with the profile in name=: read every profile's and choose here.
		// It is logged a moment before the window's start (the journal
		// entry): read from w.ReadFrom, count losses and serial gaps
		// from the start (a gap just before is not in the window: auditd
		// may have been started just before it).
		since := w.Start
		opt := audit.ReadOptions{From: src.From, Since: w.ReadFrom(), Window: &audit.Window{Start: since, Opens: w.Opens},
			Log: src.Log, Stdin: src.Stdin, Progress: src.Progress}
		res, err := audit.Read(ctx, opt, func(e *audit.Event) error {
			if audit.MatchProfile(name, e.ProfileName()) || (e.Mode == audit.ModeStatus && e.Name == name) {
				return fn(e)
			}
			return nil
		})
		if err != nil {
			return rollout.SourceStats{}, err
		}
		st := rollout.SourceStats{
			Lost:      int64(LostCount(res.Stats.Lost, since)),
			Gaps:      int64(GapCount(res.Stats.Lost)),
			Malformed: int64(res.Stats.MalformedSince(since)),
			Refused:   int64(res.Stats.RefusedTotal),
			Sources:   res.Sources,
		}
		for _, m := range res.Stats.Malformed {
			if m.Counts(since) {
				st.FirstMalformed = fmt.Sprintf("%s:%d: %s", m.Source, m.Line, m.Err)
				break
			}
		}
		if len(src.From) > 0 {
			if host, err := audit.HostSource(opt); err == nil && !slices.Contains(src.From, host) {
				st.HostSource = host
			}
		}
		return st, nil
	}
}
