package seccomp

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Errors a record can carry that keep it from being learned.
var (
	ErrUnknownArch    = errors.New("architecture without a syscall table")
	ErrUnknownSyscall = errors.New("syscall number not in the table")
)

// LearningProfile turns a profile (Docker's default, normally) into the
// form run while learning: every rule that allows now logs instead
// (SCMP_ACT_LOG), so each call the workload makes is let through and
// recorded; everything the profile refuses stays refused. Learning never
// reaches beyond the profile it starts from.
func LearningProfile(from *Profile) *Profile {
	p := from.clone()
	for i := range p.Syscalls {
		if p.Syscalls[i].Action == ActAllow {
			p.Syscalls[i].Action = ActLog
		}
	}
	return p
}

// clone deep-copies the parts LearningProfile and Narrow change.
func (p *Profile) clone() *Profile {
	q := *p
	q.Syscalls = make([]Rule, len(p.Syscalls))
	for i, r := range p.Syscalls {
		r.Names = append([]string(nil), r.names()...)
		r.Name = ""
		q.Syscalls[i] = r
	}
	return &q
}

// Evidence is what the records say about one syscall.
type Evidence struct {
	Count int       `json:"count"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Comm  string    `json:"comm,omitempty"` // of the first record
	PID   int64     `json:"pid,omitempty"`
	Where string    `json:"where,omitempty"` // the first record's source and line
	// Runtime is true while every record of the call is runc's init
	// (RuntimeInit): the container runtime's, between installing the
	// filter and executing the container's program. It is learned (the
	// container cannot start without it) and shown as the runtime's.
	Runtime bool `json:"runtime,omitempty"`
	// Kept says why a call is proposed with no record (Count 0): one of
	// KeptWithoutRecords.
	Kept string `json:"kept,omitempty"`
}

// Observation is what a set of records showed: each syscall name with its
// evidence, and what could not be learned.
type Observation struct {
	Seen map[string]*Evidence `json:"seen"`
	// Refused counts records of calls the filter refused or killed (the
	// workload needs something the starting profile does not allow);
	// Unmapped those whose number or architecture has no name.
	Refused  []string `json:"refused,omitempty"`
	Unmapped []string `json:"unmapped,omitempty"`
	Records  int      `json:"records"`
	// Untied counts the records that said they were runc's init but whose
	// process was never seen under the container's profile (Take): not
	// taken as the container's.
	Untied int `json:"untied,omitempty"`

	// held are the runc init records Take waits to tie, by process.
	held map[process][]Record
}

// process is one process of one log: records are tied by pid only within
// the source that logged them.
type process struct {
	source string
	pid    int64
}

// Take observes a record read in log order, when it is the container's.
// With keep nil every record is. Otherwise keep's records are, and a record
// of runc's init (RuntimeInit: its comm, which any process can set) is held
// until the same process is seen under keep, which it is once runc's init
// executes the container's program (the pid stays): then it is observed
// before that record. One never tied stays out (Done counts it), so another
// container's process that names itself runc:[2:INIT] adds nothing.
func (o *Observation) Take(r Record, keep func(Record) bool) {
	switch {
	case keep == nil:
		o.Observe(r)
	case keep(r):
		id := process{r.Source, r.PID}
		for _, h := range o.held[id] {
			o.Observe(h)
		}
		delete(o.held, id)
		o.Observe(r)
	case RuntimeInit(r):
		if o.held == nil {
			o.held = map[process][]Record{}
		}
		id := process{r.Source, r.PID}
		o.held[id] = append(o.held[id], r)
	}
}

// Done ends Take's records: those still held are counted as Untied.
func (o *Observation) Done() {
	for _, h := range o.held {
		o.Untied += len(h)
	}
	o.held = nil
}

// Observe adds one record to the observation.
func (o *Observation) Observe(r Record) {
	if o.Seen == nil {
		o.Seen = map[string]*Evidence{}
	}
	o.Records++
	name, err := r.Name()
	if err != nil {
		o.Unmapped = append(o.Unmapped, fmt.Sprintf("%s: %v", r.Where(), err))
		return
	}
	if !r.Logged() {
		o.Refused = append(o.Refused, fmt.Sprintf("%s: %s code=0x%08x comm=%s", r.Where(), name, r.Code, r.Comm))
		return
	}
	e := o.Seen[name]
	if e == nil {
		e = &Evidence{First: r.Time, Comm: r.Comm, PID: r.PID, Where: r.Where(), Runtime: true}
		o.Seen[name] = e
	}
	e.Runtime = e.Runtime && RuntimeInit(r)
	e.Count++
	if r.Time.After(e.Last) {
		e.Last = r.Time
	}
}

// Proposal is the change learning proposes to the allow-list: the
// syscalls seen that it does not hold yet, and the KeptWithoutRecords ones
// it lacks.
type Proposal struct {
	Add []Addition `json:"add"`
	// Outside lists syscalls seen that the learning profile does not log,
	// which an allow-list narrowed from it cannot take.
	Outside []string `json:"outside,omitempty"`
}

// Kept names the additions proposed without a record (KeptWithoutRecords).
func (p Proposal) Kept() []string {
	var names []string
	for _, a := range p.Add {
		if a.Kept != "" {
			names = append(names, a.Name)
		}
	}
	return names
}

// Addition is one proposed syscall with its evidence.
type Addition struct {
	Name string `json:"name"`
	Evidence
}

// Propose compares what was seen with the allow-list learned so far, and
// adds the KeptWithoutRecords calls the allow-list lacks, each marked with
// its reason. learning is the learning profile: a name it does not log is
// never proposed.
func Propose(learning *Profile, learned []string, o Observation) Proposal {
	have := map[string]bool{}
	for _, n := range learned {
		have[n] = true
	}
	logs := map[string]bool{}
	for _, n := range learning.Names(ActLog) {
		logs[n] = true
	}
	var p Proposal
	for n, e := range o.Seen {
		switch {
		case have[n]:
		case !logs[n]:
			p.Outside = append(p.Outside, n)
		default:
			p.Add = append(p.Add, Addition{Name: n, Evidence: *e})
		}
	}
	if len(p.Add) > 0 || len(learned) > 0 {
		for n, why := range KeptWithoutRecords {
			if !have[n] && logs[n] && o.Seen[n] == nil {
				p.Add = append(p.Add, Addition{Name: n, Evidence: Evidence{Kept: why}})
			}
		}
	}
	sort.Slice(p.Add, func(i, j int) bool { return p.Add[i].Name < p.Add[j].Name })
	sort.Strings(p.Outside)
	return p
}

// KeptWithoutRecords are the calls learning proposes whether or not a
// record shows them, each with the reason the diff and --json give: the
// one place for that text. They are proposed only where the learning
// profile logs them (learning never reaches beyond the profile it starts
// from), and only with something learned or seen, so a window with no
// record still proposes nothing.
var KeptWithoutRecords = map[string]string{
	"rt_sigreturn": "the return from a signal handler: made only when a signal arrives, so a window can miss it; " +
		"refused, every handled signal crashes the program (runc's init among them, whose Go runtime is sent signals under the container's filter); " +
		"it restores the program's own state and grants nothing",
	"restart_syscall": "the kernel's restart of a sleeping call a signal interrupted: made only when a signal arrives, so a window can miss it; " +
		"refused, the interrupted call fails with EPERM; it only continues a call the filter let through",
}

// Narrow is the enforcing profile: the learning profile's logged rules
// allow again, for the learned names only; what was not learned falls to
// the default action (SCMP_ACT_ERRNO, EPERM). A rule left without names is
// dropped; rules that refuse stay as they are.
func Narrow(learning *Profile, learned []string) *Profile {
	keep := map[string]bool{}
	for _, n := range learned {
		keep[n] = true
	}
	p := learning.clone()
	out := p.Syscalls[:0]
	for _, r := range p.Syscalls {
		if r.Action == ActLog {
			var names []string
			for _, n := range r.Names {
				if keep[n] {
					names = append(names, n)
				}
			}
			if len(names) == 0 {
				continue
			}
			r.Names, r.Action = names, ActAllow
		}
		out = append(out, r)
	}
	p.Syscalls = out
	return p
}

// Diff renders the change of the allow-list from old to new names as a
// unified diff of the JSON names array, each added line with its evidence.
func Diff(old, new []string, ev map[string]Evidence) string {
	in := map[string]bool{}
	for _, n := range old {
		in[n] = true
	}
	out := map[string]bool{}
	for _, n := range new {
		out[n] = true
	}
	all := map[string]bool{}
	for n := range in {
		all[n] = true
	}
	for n := range out {
		all[n] = true
	}
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("--- allow-list (current)\n+++ allow-list (proposed)\n")
	fmt.Fprintf(&b, "@@ -1,%d +1,%d @@\n", len(in), len(out))
	for _, n := range names {
		switch {
		case in[n] && out[n]:
			fmt.Fprintf(&b, "  %q,\n", n)
		case in[n]:
			fmt.Fprintf(&b, "- %q,\n", n)
		default:
			fmt.Fprintf(&b, "+ %q,", n)
			if e, ok := ev[n]; ok && e.Kept != "" {
				fmt.Fprintf(&b, "  # no record, kept: %s", e.Kept)
			} else if ok {
				fmt.Fprintf(&b, "  # %d×, first %s comm=%s (%s)", e.Count, e.First.UTC().Format(time.RFC3339), e.Comm, e.Where)
				if e.Runtime {
					b.WriteString("; container runtime: only runc's init called it, before the container's program (needed to start it)")
				}
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}
