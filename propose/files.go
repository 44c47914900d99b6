package propose

import (
	"hash/maphash"
	"slices"
	"strings"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// This file keeps the bulk of a long log's distinct accesses compactly:
// a plain file access (no exec, no link) is one fileAgg per (profile,
// name), with its permissions as bits, its evidence as a tally whose
// strings are interned, and no rule built for it until it is proposed as
// a literal rule, kept as a pattern's literal alternative or rated
// (Proposer.generalise). Learning then holds, per distinct name, the name
// and about a hundred bytes.

// fileAgg is one distinct plain file access of a (sub)profile, with
// everything merged from the records that asked for it.
type fileAgg struct {
	path string
	prof int32 // the (sub)profile, an index into Proposer.strs
	// perms are the permission bits asked for (permBits), need those the
	// policy lacks (set by Proposer.literals).
	perms, need uint8
	owner       bool // every record had fsuid = ouid
	sev         int8 // the literal rule's rating; unrated until rated
	t           tally
}

// fileAggs holds the file aggregates in chunks of fileChunk (growing
// never copies them or leaves a slice's spare half unused) and finds one
// by its profile and name through an open-addressing table of indexes, a
// few bytes an aggregate where a map would take tens.
type fileAggs struct {
	chunks [][]fileAgg
	n      int32
	seed   maphash.Seed
	// slots hold index+1 of an aggregate, 0 when free; at most half are
	// taken.
	slots []int32
}

const fileChunk = 1024

// at is the aggregate of index i.
func (s *fileAggs) at(i int32) *fileAgg {
	return &s.chunks[i/fileChunk][i%fileChunk]
}

func (s *fileAggs) hash(prof int32, path string) uint64 {
	return maphash.String(s.seed, path) ^ uint64(prof)*0x9e3779b97f4a7c15
}

// find is the index of the aggregate of (prof, path), or the slot to add
// it in and false.
func (s *fileAggs) find(prof int32, path string) (int32, int, bool) {
	if len(s.slots) == 0 {
		return 0, -1, false
	}
	mask := len(s.slots) - 1
	for j := int(s.hash(prof, path)) & mask; ; j = (j + 1) & mask {
		v := s.slots[j]
		if v == 0 {
			return 0, j, false
		}
		if f := s.at(v - 1); f.prof == prof && f.path == path {
			return v - 1, j, true
		}
	}
}

// add appends f, which find did not find (slot is find's answer), and
// returns its index.
func (s *fileAggs) add(f fileAgg, slot int) int32 {
	if s.n%fileChunk == 0 {
		s.chunks = append(s.chunks, make([]fileAgg, 0, fileChunk))
	}
	c := &s.chunks[len(s.chunks)-1]
	*c = append(*c, f)
	i := s.n
	s.n++
	if slot < 0 || 2*int(s.n) > len(s.slots) {
		s.grow()
		_, slot, _ = s.find(f.prof, f.path)
	}
	s.slots[slot] = i + 1
	return i
}

// grow doubles the table (first making it) and places every aggregate
// but the newest, which add places.
func (s *fileAggs) grow() {
	if s.slots == nil {
		s.seed = maphash.MakeSeed()
	}
	s.slots = make([]int32, max(2*len(s.slots), 1024))
	mask := len(s.slots) - 1
	for i := range s.n - 1 {
		f := s.at(i)
		j := int(s.hash(f.prof, f.path)) & mask
		for s.slots[j] != 0 {
			j = (j + 1) & mask
		}
		s.slots[j] = i + 1
	}
}

// tally is Evidence kept compactly: the first record's comm and source
// file are interned (Proposer.intern), the source's line kept as a number.
type tally struct {
	first, last time.Time
	pid         int64
	count       int
	line        int
	comm, src   int32
	// more are the lines of src that held the later records, at most
	// MaxLines-1 (Evidence.Lines); nil for a name asked for once.
	more *[]int32
}

// intern is the index of s in the proposer's table of the strings records
// repeat (profiles, comms, source files), adding a copy when it is new.
func (p *Proposer) intern(s string) int32 {
	if i, ok := p.strIdx[s]; ok {
		return i
	}
	if p.strIdx == nil {
		p.strIdx = map[string]int32{}
	}
	i := int32(len(p.strs))
	s = strings.Clone(s)
	p.strs = append(p.strs, s)
	p.strIdx[s] = i
	return i
}

// mergeFile adds one plain file access of record e to its aggregate.
func (p *Proposer) mergeFile(prof string, a *policy.Access, e *audit.Event) {
	pi := p.intern(prof)
	i, slot, ok := p.files.find(pi, a.Path)
	if !ok {
		i = p.files.add(fileAgg{path: strings.Clone(a.Path), prof: pi, owner: true, sev: unrated}, slot)
		p.order = append(p.order, ^i)
	}
	f := p.files.at(i)
	p.tallyAdd(&f.t, e)
	f.perms = unitePerms(f.perms, permBits(a.Perms))
	f.owner = f.owner && a.Owner
}

// tallyAdd counts one more record, as Evidence.add does.
func (p *Proposer) tallyAdd(t *tally, e *audit.Event) {
	t.count++
	widen(&t.first, &t.last, e.Time, e.Time)
	if t.count == 1 {
		t.comm = p.intern(e.Comm)
		if e.PID != audit.Unset {
			t.pid = e.PID
		}
		t.src, t.line = p.intern(e.Source), e.Line
		return
	}
	if t.line > 0 && e.Line > 0 && (t.more == nil || len(*t.more) < MaxLines-1) && p.strs[t.src] == e.Source {
		if t.more == nil {
			t.more = new([]int32)
		}
		*t.more = append(*t.more, int32(e.Line))
	}
}

// lines are the tally's record lines in its source file, sorted, at most
// MaxLines; none for a single record.
func (t *tally) lines() []int {
	if t.line <= 0 || t.more == nil {
		return nil // one record: Source says where
	}
	out := []int{t.line}
	for _, l := range *t.more {
		out = append(out, int(l))
	}
	slices.Sort(out)
	out = slices.Compact(out)
	return out[:min(len(out), MaxLines)]
}

// mergeTally folds o into t, as Evidence.merge does.
func mergeTally(t *tally, o *tally) {
	if o.count == 0 {
		return
	}
	if t.count == 0 {
		*t = *o
		if o.more != nil {
			more := slices.Clone(*o.more)
			t.more = &more
		}
		return
	}
	if t.src == o.src && t.line > 0 && o.line > 0 && (t.more == nil || len(*t.more) < MaxLines-1) {
		// The first lines merged are kept; once full, a merge costs
		// nothing more.
		if t.more == nil {
			t.more = new([]int32)
		}
		*t.more = append(*t.more, int32(o.line))
		if o.more != nil {
			*t.more = append(*t.more, (*o.more)[:min(len(*o.more), MaxLines-1-len(*t.more))]...)
		}
	}
	t.count += o.count
	widen(&t.first, &t.last, o.first, o.last)
}

// evidence is the tally as Evidence.
func (p *Proposer) evidence(t *tally) Evidence {
	return Evidence{Count: t.count, First: t.first, Last: t.last, Comm: p.strs[t.comm], PID: t.pid,
		Source: sourceAt(p.strs[t.src], t.line), Lines: t.lines()}
}

// literal decides what the policy lacks of each plain file aggregate i
// (need), counts the covered and unwritable ones, and returns whether i
// is still to be proposed.
func (p *Proposer) literal(i int32, prop *Proposal) bool {
	f := p.files.at(i)
	if _, err := profiles.EscapeLiteral(f.path); err != nil {
		p.counts.Unwritable += f.t.count
		prop.Warnings = append(prop.Warnings, err.Error())
		return false
	}
	prof := p.strs[f.prof]
	a := p.fileAccessOf(i)
	a.Perms = permSets[f.perms]
	if p.covered(prof, a) {
		p.counts.Covered += f.t.count
		return false
	}
	f.need = f.perms
	if p.opts.Covers != nil && len(a.Perms) > 1 {
		// Only the permissions not yet allowed.
		f.need = 0
		for bit := uint8(1); bit != 0 && bit <= f.perms; bit <<= 1 {
			if f.perms&bit == 0 {
				continue
			}
			a.Perms = permSets[bit]
			if !p.covered(prof, a) {
				f.need |= bit
			}
		}
	}
	return true
}

// fileAccessOf is the access literal file aggregate i stands for (the
// permissions the policy lacks).
func (p *Proposer) fileAccessOf(i int32) policy.Access {
	f := p.files.at(i)
	return policy.Access{Class: policy.ClassFile, Path: f.path, Perms: permSets[f.need], Owner: f.owner}
}

// fileNode is the literal rule of file aggregate i.
func (p *Proposer) fileNode(i int32) profiles.Node {
	f := p.files.at(i)
	lit, _ := profiles.EscapeLiteral(f.path) // checked by literal
	return &profiles.FileRule{Q: profiles.Qualifiers{Owner: f.owner}, Path: lit, Perms: permSets[f.need]}
}

// fileSev is the rating of file aggregate i's literal rule, rating it the
// first time.
func (p *Proposer) fileSev(i int32) int {
	f := p.files.at(i)
	if f.sev == unrated {
		f.sev = int8(p.rate(p.fileNode(i)))
	}
	return int(f.sev)
}

// fileCandidate is the literal rule of file aggregate i as a candidate,
// for a name that is proposed as it is.
func (p *Proposer) fileCandidate(i int32) *candidate {
	f := p.files.at(i)
	perms := permSets[f.need]
	return &candidate{profile: p.strs[f.prof], node: p.fileNode(i), ev: p.evidence(&f.t), sev: int(f.sev),
		path: f.path, perms: perms, owner: f.owner}
}
