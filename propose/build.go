package propose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

func (p *Proposer) covered(profile string, a policy.Access) bool {
	return p.opts.Covers != nil && p.opts.Covers(profile, a)
}

// uncoveredMembers returns the members of the aggregate's set (signals,
// access words) that the policy does not allow yet.
func (p *Proposer) uncoveredMembers(g *agg) []string {
	var need []string
	for _, s := range g.members() {
		if !p.covered(g.profile, g.with(s)) {
			need = append(need, s)
		}
	}
	return need
}

// peerLabel is the peer=LABEL condition for a peer label from a log, written
// as a literal; none when the record named no peer.
func peerLabel(label string) ([]profiles.Cond, error) {
	if label == "" {
		return nil, nil
	}
	peer, err := escapeLabel(label)
	if err != nil {
		return nil, err
	}
	return []profiles.Cond{{Key: "label", Values: []string{peer}}}, nil
}

// netConds are a network rule's ip= and port= conditions, for those given.
func netConds(ip, port string) []profiles.Cond {
	var out []profiles.Cond
	if ip != "" {
		out = append(out, profiles.Cond{Key: "ip", Values: []string{ip}})
	}
	if port != "" {
		out = append(out, profiles.Cond{Key: "port", Values: []string{port}})
	}
	return out
}

// labelCond appends the label=LABEL condition of mqueue and io_uring rules
// (the queue's owner, the credentials taken on) when the record named one.
func labelCond(conds []profiles.Cond, label string) ([]profiles.Cond, error) {
	l, err := peerLabel(label)
	return append(conds, l...), err
}

// literalConds appends key=VALUE conditions for the values from a log that
// are not empty, each escaped to match only itself.
func literalConds(conds []profiles.Cond, kvs ...[2]string) ([]profiles.Cond, error) {
	for _, kv := range kvs {
		if kv[1] == "" {
			continue
		}
		v, err := profiles.EscapeLiteral(kv[1])
		if err != nil {
			return nil, err
		}
		conds = append(conds, profiles.Cond{Key: kv[0], Values: []string{v}})
	}
	return conds, nil
}

// build makes the literal rule for one aggregate, or nil when the policy
// already allows it all.
func (p *Proposer) build(g *agg) (*candidate, error) {
	a := g.a
	c := &candidate{profile: g.profile, ev: g.ev}
	if a.Class.Members() {
		need := p.uncoveredMembers(g)
		if len(need) == 0 {
			return nil, nil
		}
		c.ev = g.evidenceOf(need)
		r, err := p.buildMembers(g, need)
		c.node = r
		return c, err
	}
	switch a.Class {
	case policy.ClassFile, policy.ClassLink:
		return p.buildFile(g, c)
	}
	if p.covered(g.profile, a) {
		return nil, nil
	}
	switch a.Class {
	case policy.ClassCapability:
		c.node = &profiles.CapabilityRule{Caps: []string{a.Capability}}
	case policy.ClassNetwork:
		c.node = &profiles.NetworkRule{Family: a.Family, Type: a.SockType,
			Conds: netConds(a.Path, a.Port), Peer: netConds(a.PeerAddr, a.PeerPort)}
	case policy.ClassChangeProfile:
		t, err := escapeLabel(a.Target)
		if err != nil {
			return nil, err
		}
		c.node = &profiles.ChangeProfileRule{Targets: []string{t}}
	case policy.ClassDbus:
		r := &profiles.ClassRule{Class: string(a.Class), Access: a.Access}
		var err error
		if r.Conds, err = literalConds(nil, [2]string{"bus", a.Bus}, [2]string{"path", a.DbusPath},
			[2]string{"interface", a.Interface}, [2]string{"member", a.Member}, [2]string{"name", a.PeerName}); err != nil {
			return nil, err
		}
		if r.Peer, err = peerLabel(a.Peer); err != nil {
			return nil, err
		}
		c.node = r
	case policy.ClassMount, policy.ClassRemount, policy.ClassUmount, policy.ClassPivotRoot:
		return c, p.buildMount(a, c)
	default:
		return nil, fmt.Errorf("%s: no rule for class %q", g.ev.Source, a.Class)
	}
	return c, nil
}

// buildMembers makes the rule of a class whose records merge into a set:
// the signals or access words need are those the policy does not allow.
func (p *Proposer) buildMembers(g *agg, need []string) (*profiles.ClassRule, error) {
	a := g.a
	r := &profiles.ClassRule{Class: string(a.Class), Access: need}
	var err error
	switch a.Class {
	case policy.ClassSignal:
		r.Access = a.Access
		r.Conds = []profiles.Cond{{Key: "set", Values: need, Paren: true}}
		r.Peer, err = peerLabel(a.Peer)
	case policy.ClassPtrace:
		r.Peer, err = peerLabel(a.Peer)
	case policy.ClassUnix:
		if a.SockType != "" {
			r.Conds = []profiles.Cond{{Key: "type", Values: []string{a.SockType}}}
		}
		if r.Conds, err = literalConds(r.Conds, [2]string{"addr", a.Path}); err != nil {
			return nil, err
		}
		r.Peer, err = literalConds(nil, [2]string{"addr", a.PeerAddr})
	case policy.ClassMqueue:
		// one rule for everything the queue was asked for
		r.Access = g.members()
		r.Conds = []profiles.Cond{{Key: "type", Values: []string{a.SockType}}}
		if a.Path != "" {
			v, err := profiles.EscapeLiteral(a.Path)
			if err != nil {
				return nil, err
			}
			r.Args = []string{v}
		}
		r.Conds, err = labelCond(r.Conds, a.Peer)
	case policy.ClassIOUring:
		r.Access = g.members()
		r.Conds, err = labelCond(nil, a.Peer)
	default: // userns
		r.Access = g.members()
	}
	return r, err
}

// buildMount makes the rule of a mount, remount, umount or pivot_root
// access (Path: the mount point or new root; Target: the source or where
// the old root goes).
func (p *Proposer) buildMount(a policy.Access, c *candidate) error {
	dst, err := profiles.EscapeLiteral(a.Path)
	if err != nil {
		return err
	}
	src, err := escapeOpt(a.Target)
	if err != nil {
		return err
	}
	switch a.Class {
	case policy.ClassUmount:
		c.node = &profiles.ClassRule{Class: "umount", Args: []string{dst}}
	case policy.ClassPivotRoot:
		r := &profiles.ClassRule{Class: "pivot_root", Args: []string{dst}}
		if src != "" {
			r.Conds = []profiles.Cond{{Key: "oldroot", Values: []string{src}}}
		}
		c.node = r
	default: // mount, and a remount (written as mount options=(remount ...))
		r := &profiles.ClassRule{Class: "mount"}
		if a.Fstype != "" {
			fs, err := profiles.EscapeLiteral(a.Fstype)
			if err != nil {
				return err
			}
			r.Conds = append(r.Conds, profiles.Cond{Key: "fstype", Values: []string{fs}})
		}
		var flags []string
		for _, f := range a.Flags {
			if !isWord(f) {
				return fmt.Errorf("mount flag %q cannot be written", f)
			}
			flags = append(flags, f)
		}
		sort.Strings(flags)
		if len(flags) > 0 {
			r.Conds = append(r.Conds, profiles.Cond{Key: "options", Values: flags, Paren: true})
		}
		if src != "" {
			r.Args = []string{src}
		}
		r.Target = dst
		c.node = r
	}
	return nil
}

func escapeOpt(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	return profiles.EscapeLiteral(s)
}

// escapeLabel escapes a profile label from a log (a peer, a change_profile
// target) so that it matches only itself.
func escapeLabel(s string) (string, error) {
	return profiles.EscapeLiteral(s)
}

// buildFile makes the rule of an exec or a link; plain file accesses are
// kept apart (files.go).
func (p *Proposer) buildFile(g *agg, c *candidate) (*candidate, error) {
	a := g.a
	lit, err := profiles.EscapeLiteral(a.Path)
	if err != nil {
		return nil, err
	}
	if p.covered(g.profile, a) {
		return nil, nil
	}
	if a.Class == policy.ClassLink {
		t, err := profiles.EscapeLiteral(a.Target)
		if err != nil {
			return nil, err
		}
		c.node = &profiles.LinkRule{Q: profiles.Qualifiers{Owner: a.Owner}, Path: lit, Target: t}
		return c, nil
	}
	mode := p.execMode(g.profile, a.Path)
	c.node = &profiles.FileRule{Path: lit, Perms: "rm", Exec: mode}
	if mode == "cx" || mode == "Cx" {
		// cx goes to the child profile named by the program's path;
		// one the file lacks is proposed with it (childCandidates).
		full := p.noteChild(g.profile, a.Path)
		if p.file == nil || p.file.Find(full) == nil {
			ch := p.children[full]
			ch.ev.merge(c.ev)
			ch.exec = c
			c.child = full
		}
	}
	return c, nil
}

// execMode picks the exec transition from profile for a program: px when
// it has a profile of its own, cx when child profiles were asked for and
// profile is the top-level one (a child's or hat's programs inherit it:
// children are not nested), else ix; capitalised (environment scrubbed)
// when the program is setuid.
func (p *Proposer) execMode(profile, path string) string {
	mode := "ix"
	switch {
	case p.profileFor(path):
		mode = "px"
	case p.opts.ChildExec && profile == p.name:
		mode = "cx"
	}
	if mode != "ix" && p.opts.Setuid != nil && p.opts.Setuid(path) {
		mode = strings.ToUpper(mode[:1]) + mode[1:]
	}
	return mode
}

// mergeExec folds the plain file permissions of a program that is also
// executed into its exec rule: one line per program. It returns the
// literal file aggregates left.
func (p *Proposer) mergeExec(cands []*candidate, lits []int32) []int32 {
	execs := map[string]*profiles.FileRule{}
	for _, c := range cands {
		if r, ok := c.node.(*profiles.FileRule); ok && r.Exec != "" {
			execs[c.profile+"\x00"+r.Path] = r
		}
	}
	if len(execs) == 0 {
		return lits
	}
	out := lits[:0]
	for _, i := range lits {
		f := p.files.at(i)
		lit, _ := profiles.EscapeLiteral(f.path) // checked by literal
		if x := execs[p.strs[f.prof]+"\x00"+lit]; x != nil {
			x.Perms = mergePerms(x.Perms, permSets[f.need])
			continue
		}
		out = append(out, i)
	}
	return out
}

// profileFor reports whether program has a profile of its own that px can
// go to, asking ProfileFor once per program; when a profile file for it
// does not count (unconfined, disabled, unreadable), the proposal says why
// it gets ix or cx instead.
func (p *Proposer) profileFor(program string) bool {
	if p.opts.ProfileFor == nil {
		return false
	}
	if ok, seen := p.pxTo[program]; seen {
		return ok
	}
	ok, why := p.opts.ProfileFor(program)
	if p.pxTo == nil {
		p.pxTo = map[string]bool{}
	}
	p.pxTo[strings.Clone(program)] = ok
	if !ok && why != "" {
		alt := "ix"
		if p.opts.ChildExec {
			alt = "cx, with a child profile,"
		}
		p.warn(fmt.Sprintf("%s: %s; proposed %s not px", program, why, alt))
	}
	return ok
}
