package seccomp

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"time"

	"github.com/aa-flow/aa-flow/store"
)

// Journal events of the seccomp side (StateDir/NAME/journal.jsonl, beside
// the AppArmor profile's).
const (
	EventInit     = "seccomp-init"
	EventApply    = "seccomp-apply"
	EventEnforce  = "seccomp-enforce"
	EventRefused  = "seccomp-refused"
	EventRollback = "seccomp-rollback"
)

// Modes of the profile file.
const (
	ModeLog     = "log"     // learning: the allowed calls are logged
	ModeEnforce = "enforce" // narrowed to the learned calls
	ModeDefault = "default" // Docker's default, unchanged (the baseline)
)

// State files in StateDir/NAME beside FileName.
const (
	learningFile = "seccomp-learning.json"
	learnedFile  = "seccomp-learned.json"
	proposalFile = "seccomp-proposal.json"
	revisionsSub = "seccomp" // StateDir/NAME/seccomp/revisions/
)

// ErrNotInitialised means NAME has no seccomp profile yet.
var ErrNotInitialised = errors.New("no seccomp profile (run aa-flow seccomp init NAME)")

// ErrGateRefused is wrapped by Enforce's error when the gate refuses.
var ErrGateRefused = errors.New("seccomp enforce gate refused")

// Records reads the kernel's SECCOMP records logged at or after since and
// calls fn for each; it returns how many records the logs lost.
type Records func(ctx context.Context, since time.Time, fn func(Record) error) (lost int64, err error)

// Keeper keeps the seccomp profiles of one state directory. Every change
// is written atomically under the name's lock, the old version kept as a
// revision.
type Keeper struct {
	Store *store.Store
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (k *Keeper) now() time.Time {
	if k.Now != nil {
		return k.Now()
	}
	return time.Now()
}

// Path is the profile file docker run is given.
func (k *Keeper) Path(name string) (string, error) {
	d, err := k.Store.Dir(name)
	if err != nil {
		return "", err
	}
	return filepath.Join(d, FileName), nil
}

func (k *Keeper) revisions(name string) (*store.Store, error) {
	d, err := k.Store.Dir(name)
	if err != nil {
		return nil, err
	}
	return &store.Store{StateDir: d}, nil
}

// Learned is the allow-list learned so far, with its evidence.
type Learned struct {
	Names    []string            `json:"names"`
	Evidence map[string]Evidence `json:"evidence,omitempty"`
}

// Status is where a name's seccomp profile stands.
type Status struct {
	Name     string    `json:"name"`
	Path     string    `json:"path"`
	Mode     string    `json:"mode"`
	Revision int       `json:"revision"`
	Since    time.Time `json:"since"`
	Learned  int       `json:"learned"`
	Pending  int       `json:"pending"`
	SHA256   string    `json:"inline_sha256"` // as docker inspect shows it inlined
}

// ModeOf says which form a profile is in.
func ModeOf(p *Profile) string {
	if len(p.Names(ActLog)) > 0 {
		return ModeLog
	}
	def, err := Parse(dockerDefault)
	if err == nil {
		a, b := def.Names(ActAllow), p.Names(ActAllow)
		if len(a) == len(b) && fmt.Sprint(a) == fmt.Sprint(b) && p.DefaultAction == def.DefaultAction {
			return ModeDefault
		}
	}
	return ModeEnforce
}

func who() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

// write stores data as the profile file and as a new revision, and
// journals the event. The caller holds the lock.
func (k *Keeper) write(name string, data []byte, event, reason string, rollbackOf int) (store.Revision, error) {
	p, err := Parse(data)
	if err != nil {
		return store.Revision{}, fmt.Errorf("seccomp %s: refusing to write: %w", name, err)
	}
	mode := ModeOf(p)
	rs, err := k.revisions(name)
	if err != nil {
		return store.Revision{}, err
	}
	path, err := k.Path(name)
	if err != nil {
		return store.Revision{}, err
	}
	rev, err := rs.SaveRevision(revisionsSub, data, store.Revision{Time: k.now(), Reason: reason, Mode: mode, User: who(), Path: path, RollbackOf: rollbackOf})
	if err != nil {
		return rev, err
	}
	if err := store.WriteFileAtomic(path, data, 0o644); err != nil {
		return rev, fmt.Errorf("seccomp %s: %w", name, err)
	}
	return rev, k.Store.AppendJournal(name, store.JournalEntry{Time: rev.Time, Event: event, Mode: mode, Revision: rev.N, User: rev.User, Message: reason})
}

// Init writes the learning profile made from base (Docker's default when
// nil) and keeps base's learning form as the narrowing base. An existing
// profile is replaced only with force (it stays a revision).
func (k *Keeper) Init(name string, base []byte, force bool) (store.Revision, error) {
	unlock, err := k.Store.Lock(name)
	if err != nil {
		return store.Revision{}, err
	}
	defer unlock()
	if base == nil {
		base = dockerDefault
	}
	from, err := Parse(base)
	if err != nil {
		return store.Revision{}, fmt.Errorf("seccomp %s: starting profile: %w", name, err)
	}
	path, err := k.Path(name)
	if err != nil {
		return store.Revision{}, err
	}
	if _, err := os.Stat(path); err == nil && !force {
		return store.Revision{}, fmt.Errorf("seccomp %s: %s exists (--force replaces it; the old one stays a revision)", name, path)
	}
	lp := LearningProfile(from)
	if len(lp.Names(ActLog)) == 0 {
		return store.Revision{}, fmt.Errorf("seccomp %s: the starting profile allows nothing, so there is nothing to learn", name)
	}
	data, err := lp.Marshal()
	if err != nil {
		return store.Revision{}, err
	}
	if err := k.Store.WriteState(name, learningFile, lp); err != nil {
		return store.Revision{}, err
	}
	if err := k.Store.WriteState(name, learnedFile, Learned{Names: []string{}}); err != nil {
		return store.Revision{}, err
	}
	if err := k.Store.RemoveState(name, proposalFile); err != nil {
		return store.Revision{}, err
	}
	return k.write(name, data, EventInit, "init: Docker's default profile, allowed calls logged", 0)
}

func (k *Keeper) learning(name string) (*Profile, error) {
	var lp Profile
	if err := k.Store.ReadState(name, learningFile, &lp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("seccomp %s: %w", name, ErrNotInitialised)
		}
		return nil, err
	}
	return &lp, nil
}

// Learned returns the allow-list learned so far.
func (k *Keeper) Learned(name string) (Learned, error) {
	var l Learned
	if err := k.Store.ReadState(name, learnedFile, &l); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return l, fmt.Errorf("seccomp %s: %w", name, ErrNotInitialised)
		}
		return l, err
	}
	return l, nil
}

// windowStart is when the current learning window began: the last init,
// apply or rollback.
func (k *Keeper) windowStart(name string) (time.Time, error) {
	e, ok, err := k.Store.LastEvent(name, EventInit, EventApply, EventRollback)
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, fmt.Errorf("seccomp %s: %w", name, ErrNotInitialised)
	}
	return e.Time, nil
}

// Observe reads the records since the learning window began (or since
// since, when later) and returns what they show.
func (k *Keeper) Observe(ctx context.Context, name string, since time.Time, recs Records, keep func(Record) bool) (Observation, int64, error) {
	start, err := k.windowStart(name)
	if err != nil {
		return Observation{}, 0, err
	}
	if since.Before(start) {
		since = start
	}
	var o Observation
	lost, err := recs(ctx, since, func(r Record) error {
		if !r.Time.IsZero() && r.Time.Before(since) {
			return nil
		}
		o.Take(r, keep)
		return nil
	})
	o.Done()
	if err != nil {
		return o, lost, fmt.Errorf("seccomp %s: reading the logs: %w", name, err)
	}
	return o, lost, nil
}

// Propose compares the observation with the learned allow-list and, when
// pending is set, keeps the proposal as the pending one.
func (k *Keeper) Propose(name string, o Observation, pending bool) (Proposal, Learned, error) {
	unlock, err := k.Store.Lock(name)
	if err != nil {
		return Proposal{}, Learned{}, err
	}
	defer unlock()
	lp, err := k.learning(name)
	if err != nil {
		return Proposal{}, Learned{}, err
	}
	l, err := k.Learned(name)
	if err != nil {
		return Proposal{}, l, err
	}
	p := Propose(lp, l.Names, o)
	if !pending {
		return p, l, nil
	}
	return p, l, k.Store.WriteState(name, proposalFile, p)
}

// Apply takes the pending proposal into the learned allow-list. The
// profile file stays in log mode; the learning window restarts.
func (k *Keeper) Apply(name string) (Learned, error) {
	unlock, err := k.Store.Lock(name)
	if err != nil {
		return Learned{}, err
	}
	defer unlock()
	var p Proposal
	if err := k.Store.ReadState(name, proposalFile, &p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Learned{}, fmt.Errorf("seccomp %s: no pending proposal (aa-flow seccomp learn %s first)", name, name)
		}
		return Learned{}, err
	}
	l, err := k.Learned(name)
	if err != nil {
		return l, err
	}
	if l.Evidence == nil {
		l.Evidence = map[string]Evidence{}
	}
	have := map[string]bool{}
	for _, n := range l.Names {
		have[n] = true
	}
	for _, a := range p.Add {
		if !have[a.Name] {
			l.Names = append(l.Names, a.Name)
			have[a.Name] = true
		}
		l.Evidence[a.Name] = a.Evidence
	}
	sort.Strings(l.Names)
	if err := k.Store.WriteState(name, learnedFile, l); err != nil {
		return l, err
	}
	if err := k.Store.RemoveState(name, proposalFile); err != nil {
		return l, err
	}
	return l, k.Store.AppendJournal(name, store.JournalEntry{Time: k.now(), Event: EventApply, Mode: ModeLog, User: who(),
		Message: fmt.Sprintf("%d syscall(s) learned, %d in all", len(p.Add), len(l.Names))})
}

// Enforce narrows the profile to the learned allow-list after the gate
// (skipped with force; the override is journalled).
func (k *Keeper) Enforce(ctx context.Context, name string, recs Records, keep func(Record) bool, quietFor time.Duration, force bool) (*GateReport, store.Revision, error) {
	unlock, err := k.Store.Lock(name)
	if err != nil {
		return nil, store.Revision{}, err
	}
	defer unlock()
	lp, err := k.learning(name)
	if err != nil {
		return nil, store.Revision{}, err
	}
	l, err := k.Learned(name)
	if err != nil {
		return nil, store.Revision{}, err
	}
	var report *GateReport
	if !force {
		start, err := k.windowStart(name)
		if err != nil {
			return nil, store.Revision{}, err
		}
		o, lost, err := k.Observe(ctx, name, start, recs, keep)
		if err != nil {
			return nil, store.Revision{}, err
		}
		r := Gate(l.Names, o, lost, start, k.now(), quietFor)
		report = &r
		if !r.Pass {
			msg := fmt.Sprint(r.Reasons)
			_ = k.Store.AppendJournal(name, store.JournalEntry{Time: k.now(), Event: EventRefused, Mode: ModeLog, User: who(), Message: msg})
			return report, store.Revision{}, fmt.Errorf("seccomp %s: %w", name, ErrGateRefused)
		}
	} else if len(l.Names) == 0 {
		return nil, store.Revision{}, fmt.Errorf("seccomp %s: nothing learned: enforcing would refuse every call", name)
	}
	data, err := Narrow(lp, l.Names).Marshal()
	if err != nil {
		return report, store.Revision{}, err
	}
	reason := fmt.Sprintf("enforce: %d learned syscalls allowed, the rest refused with EPERM", len(l.Names))
	if force {
		reason += " (gate skipped with --force)"
	}
	rev, err := k.write(name, data, EventEnforce, reason, 0)
	return report, rev, err
}

// Rollback writes revision to (the one before the current when 0) back;
// toDefault writes Docker's default profile instead, the baseline.
func (k *Keeper) Rollback(name string, to int, toDefault bool) (store.Revision, error) {
	unlock, err := k.Store.Lock(name)
	if err != nil {
		return store.Revision{}, err
	}
	defer unlock()
	if toDefault {
		return k.write(name, dockerDefault, EventRollback, "rollback to Docker's default profile (the baseline)", 0)
	}
	rs, err := k.revisions(name)
	if err != nil {
		return store.Revision{}, err
	}
	revs, err := rs.Revisions(revisionsSub)
	if err != nil {
		return store.Revision{}, err
	}
	if len(revs) == 0 {
		return store.Revision{}, fmt.Errorf("seccomp %s: %w", name, ErrNotInitialised)
	}
	if to == 0 {
		cur := revs[len(revs)-1]
		base := cur.N
		if cur.RollbackOf > 0 {
			base = cur.RollbackOf
		}
		for i := len(revs) - 1; i >= 0; i-- {
			if revs[i].N < base && revs[i].RollbackOf == 0 {
				to = revs[i].N
				break
			}
		}
		if to == 0 {
			return store.Revision{}, fmt.Errorf("seccomp %s: no earlier revision (--default writes Docker's default profile)", name)
		}
	}
	data, _, err := rs.ReadRevision(revisionsSub, to)
	if err != nil {
		return store.Revision{}, err
	}
	return k.write(name, data, EventRollback, fmt.Sprintf("rollback to revision %d", to), to)
}

// Status reports where name's seccomp profile stands.
func (k *Keeper) Status(name string) (Status, error) {
	path, err := k.Path(name)
	if err != nil {
		return Status{}, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Status{}, fmt.Errorf("seccomp %s: %w", name, ErrNotInitialised)
	}
	if err != nil {
		return Status{}, err
	}
	p, err := Parse(data)
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", path, err)
	}
	s := Status{Name: name, Path: path, Mode: ModeOf(p)}
	if s.SHA256, err = InlineHash(data); err != nil {
		return s, err
	}
	rs, err := k.revisions(name)
	if err != nil {
		return s, err
	}
	if r, ok, err := rs.LastRevision(revisionsSub); err == nil && ok {
		s.Revision, s.Since = r.N, r.Time
	}
	if l, err := k.Learned(name); err == nil {
		s.Learned = len(l.Names)
	}
	var pr Proposal
	if err := k.Store.ReadState(name, proposalFile, &pr); err == nil {
		s.Pending = len(pr.Add)
	}
	return s, nil
}
