package learn

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/propose"
	"github.com/aa-flow/aa-flow/templates"
)

// Coverage answers "does the profile file as it is now allow this?" for
// the learner (one access of one profile) and for the enforce gate (every
// access one record shows), so both judge a record the same way.
type Coverage struct {
	file     *profiles.File
	load     profiles.IncludeLoader
	dir      string // the profile directory (for px targets), "" for none
	policies map[string]*policy.Policy
	errs     map[string]error
	// seen caches the gate's answers by profile and accesses (accessKey):
	// a log repeats the same few accesses many times.
	seen map[string]bool
	key  []byte
	acc  []policy.Access // scratch, reused between records
	// route routes peers as the file's exec rules run programs (execSub).
	route propose.Router
}

// accessKey appends to b a key that tells apart any two different
// (profile, accesses) pairs: the profile and each access's identity
// (policy.Access.AppendID), each ended by a byte that no field holds.
func accessKey(b []byte, profile string, acc []policy.Access) []byte {
	b = strconv.AppendInt(b, int64(len(profile)), 10)
	b = append(b, ':')
	b = append(b, profile...)
	for i := range acc {
		b = append(b, '|')
		b = acc[i].AppendID(b)
	}
	return b
}

// maxCoverageCache bounds the answer cache.
const maxCoverageCache = 1 << 16

// NewCoverage checks accesses against the profiles of f, following its
// includes with r.
func NewCoverage(f *profiles.File, r *parser.Resolver) *Coverage {
	c := &Coverage{file: f, load: r.Load, policies: map[string]*policy.Policy{}, errs: map[string]error{}, seen: map[string]bool{}}
	if len(r.Dirs) > 0 {
		c.dir = r.Dirs[0]
	}
	c.route.Exec = c.execSub
	return c
}

// execSub is RunsUnder for propose.Router: a program profile has no exec
// rule for runs as profile (ix), as the learner assumes by default.
func (c *Coverage) execSub(profile, program string) string {
	if sub, ok := c.RunsUnder(profile, program); ok {
		return sub
	}
	return profile
}

// hasProfile reports whether px to program finds a profile (ProfileFor).
func (c *Coverage) hasProfile(program string) bool {
	ok, _ := ProfileFor(c.dir, program)
	return ok
}

// RunsUnder says which (sub)profile the exec rule of profile in the file
// runs program under (propose.Router.Exec): profile itself (ix, and the
// ix fallback of pix and cix when their target is missing), its child
// (cx, cx -> NAME, cix with the child in the file), "" for another profile
// or none (px, ux, pix to a profile the directory has); ok is false when
// profile has no exec rule for program (or is not in the file).
func (c *Coverage) RunsUnder(profile, program string) (sub string, ok bool) {
	p, err := c.Policy(profile)
	if err != nil || p == nil {
		return "", false
	}
	r := p.ExecRule(program)
	if r == nil {
		return "", false
	}
	inherit := strings.ContainsRune(r.Exec, 'i')
	switch r.Exec[0] {
	case 'c', 'C':
		child := profile + "//" + program
		if r.Target != "" {
			child = profile + "//" + r.Target
		}
		if !inherit || c.file.Find(child) != nil {
			return child, true
		}
	case 'p', 'P':
		if !inherit || r.Target != "" || c.hasProfile(program) {
			return "", true
		}
	case 'u', 'U':
		return "", true
	}
	return profile, true
}

// Policy is the policy of one profile or hat of the file (nil, nil when the
// file does not define it).
func (c *Coverage) Policy(profile string) (*policy.Policy, error) {
	if p, ok := c.policies[profile]; ok {
		return p, c.errs[profile]
	}
	// The name may point into a decoder's block: keep a copy.
	profile = strings.Clone(profile)
	var p *policy.Policy
	var err error
	if c.file.Find(profile) != nil {
		if p, err = policy.NewPolicy(c.file, profile, c.load); err != nil {
			p, err = nil, fmt.Errorf("read the current policy of %s: %w", profile, err)
		}
	}
	c.policies[profile], c.errs[profile] = p, err
	return p, err
}

// Covers reports whether profile allows a; a profile the file does not
// define (or cannot be read) allows nothing.
func (c *Coverage) Covers(profile string, a policy.Access) bool {
	p, err := c.Policy(profile)
	return err == nil && p != nil && p.Covers(a)
}

// Event reports whether every access the record shows is allowed. A record
// the learner cannot turn into an access counts as not covered: the gate
// errs on the side of not enforcing. So does a record of a profile the file
// does not define. A record of complain mode's "NAME//null-/bin/x", a
// program NAME ran without an exec rule, is never covered: that profile
// does not log the program's network use (propose.LearningChild), and a
// program started before its exec rule was loaded keeps running under it,
// so the records cannot show the profile covers what it does. A request
// the kernel marks as optional (propose.Optional) needs no rule and counts
// as covered. A record of a stacked label is judged by the parts of it this
// file defines (ownParts), each of which must allow it.
func (c *Coverage) Event(e *audit.Event) (bool, error) {
	if propose.Optional(e) {
		return true, nil
	}
	parts := c.ownParts(e.ProfileName())
	if len(parts) == 0 {
		return false, nil
	}
	for _, name := range parts {
		if ok, err := c.eventAs(e, name); !ok || err != nil {
			return false, err
		}
	}
	return true, nil
}

// ownParts are the parts of a record's label this file judges. A label of
// one profile is its own part. A stacked label ("docker-default//&web",
// label= in the kernel's record) confines the task by every part at once,
// each part's profile deciding for itself; the parts whose profile this
// file defines are its to judge (as propose.Route learns the records into
// them), the others' profiles (another file's, another namespace's
// ":ns:web") are not.
func (c *Coverage) ownParts(label string) []string {
	if !strings.Contains(label, "//&") {
		return []string{label}
	}
	var own []string
	for part := range strings.SplitSeq(label, "//&") {
		top, _, _ := strings.Cut(part, "//")
		if !strings.HasPrefix(part, ":") && c.file.Find(top) != nil {
			own = append(own, part)
		}
	}
	return own
}

// eventAs reports whether the (sub)profile name allows every access the
// record shows (see Event).
func (c *Coverage) eventAs(e *audit.Event, name string) (bool, error) {
	if strings.Contains(name, "//null-") {
		return false, nil
	}
	p, err := c.Policy(name)
	if err != nil || p == nil {
		return false, err
	}
	// Peers that are null- children go where the file's exec rules run
	// them, as the learner routes them.
	c.route.Name = name
	c.acc = c.route.AppendAccesses(c.acc[:0], e)
	acc := c.acc
	if len(acc) == 0 {
		return false, nil
	}
	c.key = accessKey(c.key[:0], name, acc)
	if cached, hit := c.seen[string(c.key)]; hit {
		return cached, nil
	}
	key := string(c.key)
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

// ProfileFor reports whether the profile directory has a profile that an
// exec of exe would go to with px: the file Debian names after the program
// (/usr/bin/tool is usr.bin.tool), not disabled (dir/disable/NAME), that
// parses and defines a top-level profile whose name or attachment matches
// exe and that confines it (not flags=(unconfined)). A file of that name
// that defines something else, that cannot be read, or whose profile is
// unconfined is no profile to go to: px would fail the exec or run the
// program unconfined, so the learner writes ix or cx instead, and why says
// why that file does not count ("" when there is no such file).
func ProfileFor(dir, exe string) (ok bool, why string) {
	if !strings.HasPrefix(exe, "/") || dir == "" {
		return false, ""
	}
	base := strings.ReplaceAll(strings.TrimPrefix(exe, "/"), "/", ".")
	path := filepath.Join(dir, base)
	if _, err := os.Lstat(path); err != nil {
		return false, ""
	}
	if _, err := os.Lstat(filepath.Join(dir, "disable", base)); err == nil {
		return false, fmt.Sprintf("%s is disabled (%s)", path, filepath.Join(dir, "disable", base))
	}
	f, err := parser.ParseFile(path)
	if err != nil {
		return false, fmt.Sprintf("%s cannot be read: %v", path, err)
	}
	vars, err := policy.CollectVars(f, parser.ForProfileDir(dir).Load)
	if err != nil {
		vars = nil
	}
	m := policy.NewMatcher(vars)
	for _, p := range f.Profiles() {
		for _, pat := range []string{p.Attachment, p.Name} {
			if !strings.HasPrefix(pat, "/") && !strings.HasPrefix(pat, "@{") {
				continue
			}
			if !m.RuleCovers(&profiles.FileRule{Path: pat, Perms: "r"}, policy.Access{Class: policy.ClassFile, Path: exe, Perms: "r"}) {
				continue
			}
			if slices.Contains(p.Flags, "unconfined") {
				return false, fmt.Sprintf("%s's profile %s is flags=(unconfined): px would run %s unconfined", path, p.DisplayName(), exe)
			}
			return true, ""
		}
	}
	return false, fmt.Sprintf("%s defines no profile for %s", path, exe)
}

// rateAbstraction rates an abstraction by what it grants: the highest
// severity of its rules, their variables expanded with the abstraction's
// own (tunables/global), not the profile's, and the rule that grants it.
func rateAbstraction(ab propose.AbstractionCandidate, pol *policy.Policy, db *lint.SeverityDB) propose.AbstractionCandidate {
	db = db.WithVars(pol.Vars)
	ab.Severity = lint.SeverityUnknown
	for _, rule := range pol.Rules {
		if s := db.Rule(rule); s > ab.Severity {
			ab.Severity = s
			if text, err := templates.RenderLine(rule); err == nil {
				ab.Worst = text
			}
		}
	}
	return ab
}

// pinnedABI returns the abi a policy file pins ("abi/3.0") and that abi's
// features, read from the profile directory's abi files (for <abi/X>
// also the system's, where apparmor_parser looks by default); "" and nil
// when the file pins none or its abi file is on neither (nothing is set
// aside then: learn cannot tell which rules the profile can hold).
func pinnedABI(f *profiles.File, dir string) (string, kernel.Features) {
	for _, n := range f.Items {
		a, ok := n.(*profiles.Abi)
		if !ok {
			continue
		}
		var paths []string
		switch {
		case a.Angle:
			paths = []string{filepath.Join(dir, a.Path), filepath.Join(systemProfileDir, a.Path)}
		case filepath.IsAbs(a.Path):
			paths = []string{a.Path}
		default:
			paths = []string{filepath.Join(filepath.Dir(f.Path), a.Path)}
		}
		for _, p := range paths {
			if feats, err := kernel.ReadFeaturesFile(p); err == nil {
				return a.Path, feats
			}
		}
		return "", nil
	}
	return "", nil
}

// systemProfileDir is where apparmor_parser finds <abi/...> by default.
const systemProfileDir = "/etc/apparmor.d"
