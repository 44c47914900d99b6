package propose

import (
	"github.com/aa-flow/aa-flow/profiles"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Generalisation turns literal file rules learned from the records into
// suggested globs or variables, each keeping the literal rules it replaces
// so the person can choose them instead. Every pattern is built from
// escaped pieces of the logged names (EscapeLiteral) and aa-flow's own glob
// tokens: a character of a logged name never becomes a glob.
//
// The kinds of suggestion, in the order they are tried on each path:
const (
	GenProcPID   = "proc-pid"          // /proc/1234/stat -> @{PROC}/@{pid}/stat
	GenHome      = "home"              // /home/bob/x -> @{HOME}/x (owner when the records were)
	GenRunUser   = "run-user"          // /run/user/1000/x -> /run/user/@{uid}/x
	GenVersioned = "versioned-library" // libfoo.so.1.2.3 -> libfoo.so*
	GenRandom    = "random-name"       // mktemp names, UUIDs, long hex runs -> *
	GenSiblings  = "siblings"          // many files of one directory -> dir/*
)

// piece is part of a pattern: a literal (escaped when written) or a glob
// token written as is.
type piece struct {
	text string
	glob bool
}

// pattern writes pieces as a Path, escaping the literal ones.
func pattern(ps []piece) (string, error) {
	var b strings.Builder
	for _, p := range ps {
		if p.glob {
			b.WriteString(p.text)
			continue
		}
		if p.text == "" {
			continue
		}
		e, err := profiles.EscapeLiteral(p.text)
		if err != nil {
			return "", err
		}
		b.WriteString(e)
	}
	return b.String(), nil
}

var (
	reProcPID  = regexp.MustCompile(`^/proc/([1-9][0-9]*)(/task/([1-9][0-9]*))?(/.*)?$`)
	reHome     = regexp.MustCompile(`^/home/([^/]+)(/.*)?$`)
	reRunUser  = regexp.MustCompile(`^/run/user/([0-9]+)(/.*)?$`)
	reVersion  = regexp.MustCompile(`^(lib[^/]*\.so)(\.[0-9]+)+$`)
	reUUID     = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}`)
	reHexRun   = regexp.MustCompile(`[0-9a-fA-F]{16,}`)
	reAlnumRun = regexp.MustCompile(`[A-Za-z0-9]{6,}`)
)

// tempDirs are where mktemp-style names are expected.
var tempDirs = []string{"/tmp/", "/var/tmp/", "/dev/shm/", "/run/user/"}

// hasVar reports whether the profile can use @{name}.
func (p *Proposer) hasVar(name string) bool {
	_, ok := p.opts.Vars[name]
	return ok
}

// homeHasRoot reports whether the profile's @{HOME} names /root/.
func (p *Proposer) homeHasRoot() bool {
	for _, v := range p.opts.Vars["HOME"] {
		if v == "/root/" || v == "/root" {
			return true
		}
	}
	return false
}

// generalisePath proposes a pattern for one logged path, or "" when none
// of the per-path generalisations applies.
func (p *Proposer) generalisePath(name string) (string, string) {
	if m := reProcPID.FindStringSubmatch(name); m != nil {
		var ps []piece
		if p.hasVar("PROC") && p.hasVar("pid") {
			ps = append(ps, piece{"@{PROC}/@{pid}", true})
		} else {
			ps = append(ps, piece{"/proc/", false}, piece{"[1-9]*", true})
		}
		if m[2] != "" {
			ps = append(ps, piece{"/task/", false})
			if p.hasVar("tid") {
				ps = append(ps, piece{"@{tid}", true})
			} else {
				ps = append(ps, piece{"[1-9]*", true})
			}
		}
		ps = append(ps, piece{m[4], false})
		if pat, err := pattern(ps); err == nil {
			return pat, GenProcPID
		}
		return "", ""
	}
	if rest, ok := strings.CutPrefix(name, "/root/"); ok && rest != "" && p.homeHasRoot() {
		// root's home is one of @{HOME}'s (Debian's tunables/home).
		if pat, err := pattern([]piece{{"@{HOME}", true}, {"/" + rest, false}}); err == nil {
			return pat, GenHome
		}
		return "", ""
	}
	if m := reHome.FindStringSubmatch(name); m != nil && m[2] != "" {
		var ps []piece
		if p.hasVar("HOME") {
			ps = []piece{{"@{HOME}", true}, {m[2], false}}
		} else {
			ps = []piece{{"/home/", false}, {"*", true}, {m[2], false}}
		}
		if pat, err := pattern(ps); err == nil {
			return pat, GenHome
		}
		return "", ""
	}
	if m := reRunUser.FindStringSubmatch(name); m != nil {
		ps := []piece{{"/run/user/", false}, {"[0-9]*", true}, {m[2], false}}
		if p.hasVar("uid") {
			ps[1].text = "@{uid}"
		}
		if pat, err := pattern(ps); err == nil {
			return pat, GenRunUser
		}
		return "", ""
	}
	dir, base := path.Split(name)
	if base != "" {
		if m := reVersion.FindStringSubmatch(base); m != nil {
			if pat, err := pattern([]piece{{dir + m[1], false}, {"*", true}}); err == nil {
				return pat, GenVersioned
			}
		}
	}
	if ps := randomPieces(name); ps != nil {
		if pat, err := pattern(ps); err == nil {
			return pat, GenRandom
		}
	}
	return "", ""
}

// randomPieces splits a path into literal pieces and a * for each run of
// characters that looks random: a UUID, a hex run of 16 or more, or (in
// temporary directories) a mktemp-style mix of upper case, lower case and
// digits. Nil when nothing looks random.
func randomPieces(name string) []piece {
	inTemp := false
	for _, d := range tempDirs {
		if strings.HasPrefix(name, d) {
			inTemp = true
		}
	}
	type span struct{ a, b int }
	var spans []span
	for _, re := range []*regexp.Regexp{reUUID, reHexRun} {
		for _, m := range re.FindAllStringIndex(name, -1) {
			if hasDigit(name[m[0]:m[1]]) && hasLetter(name[m[0]:m[1]]) {
				spans = append(spans, span{m[0], m[1]})
			}
		}
	}
	if inTemp {
		for _, m := range reAlnumRun.FindAllStringIndex(name, -1) {
			s := name[m[0]:m[1]]
			if hasDigit(s) && strings.ToLower(s) != s && strings.ToUpper(s) != s {
				spans = append(spans, span{m[0], m[1]})
			}
		}
	}
	if len(spans) == 0 {
		return nil
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	var ps []piece
	at := 0
	for _, s := range spans {
		if s.a < at {
			continue // overlaps a span already replaced
		}
		// A random run never reaches into the first path segment.
		if strings.IndexByte(name[1:s.a+1], '/') < 0 {
			continue
		}
		ps = append(ps, piece{name[at:s.a], false}, piece{"*", true})
		at = s.b
	}
	if at == 0 {
		return nil
	}
	return append(ps, piece{name[at:], false})
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }
func hasLetter(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' }) >= 0
}

// tooBroad reports patterns aa-flow never suggests: the root, everything,
// or a whole top-level tree by itself (/tmp/*, /usr/**, /*/x).
func tooBroad(pat string) bool {
	switch pat {
	case "", "/", "/*", "/**", "/*/", "/**/":
		return true
	}
	segs := strings.Split(strings.Trim(pat, "/"), "/")
	if strings.ContainsAny(segs[0], "*?[{") && !strings.HasPrefix(segs[0], "@{") {
		return true // a glob in the top-level segment
	}
	if len(segs) == 1 {
		return false
	}
	// /top/ followed only by globs.
	for _, s := range segs[1:] {
		if strings.Trim(s, "*") != "" {
			return false
		}
	}
	return true
}

// group is literal file candidates that one pattern would replace.
type group struct {
	pat, kind string
	members   []*candidate
}

// generalise replaces literal file candidates by suggestions where a
// generalisation applies, keeps the rest.
func (p *Proposer) generalise(cands []*candidate) []*candidate {
	var out []*candidate
	groups := map[string]*group{}
	var order []string
	var literal []*candidate
	for _, c := range cands {
		if c.path == "" {
			out = append(out, c)
			continue
		}
		pat, kind := p.generalisePath(c.path)
		if pat == "" || tooBroad(pat) {
			literal = append(literal, c)
			continue
		}
		key := c.profile + "\x00" + pat + "\x00" + boolKey(c.owner)
		g := groups[key]
		if g == nil {
			g = &group{pat: pat, kind: kind}
			groups[key] = g
			order = append(order, key)
		}
		g.members = append(g.members, c)
	}
	// Siblings: many literal files of one directory with the same
	// permissions.
	if p.opts.SiblingThreshold > 0 {
		sib := map[string][]*candidate{}
		var sorder []string
		for _, c := range literal {
			dir, base := path.Split(strings.TrimSuffix(c.path, "/"))
			if base == "" {
				continue
			}
			key := c.profile + "\x00" + dir + "\x00" + c.perms + "\x00" + boolKey(c.owner) + "\x00" + boolKey(strings.HasSuffix(c.path, "/"))
			if sib[key] == nil {
				sorder = append(sorder, key)
			}
			sib[key] = append(sib[key], c)
		}
		taken := map[*candidate]bool{}
		for _, key := range sorder {
			ms := sib[key]
			if len(ms) < p.opts.SiblingThreshold {
				continue
			}
			dir, _ := path.Split(strings.TrimSuffix(ms[0].path, "/"))
			ps := []piece{{dir, false}, {"*", true}}
			if strings.HasSuffix(ms[0].path, "/") {
				ps = append(ps, piece{"/", true})
			}
			pat, err := pattern(ps)
			if err != nil || tooBroad(pat) {
				continue
			}
			groups[key] = &group{pat: pat, kind: GenSiblings, members: ms}
			order = append(order, key)
			for _, m := range ms {
				taken[m] = true
			}
		}
		var rest []*candidate
		for _, c := range literal {
			if !taken[c] {
				rest = append(rest, c)
			}
		}
		literal = rest
	}
	out = append(out, literal...)
	for _, key := range order {
		g := groups[key]
		c := p.suggest(g)
		if c == nil {
			out = append(out, g.members...)
			continue
		}
		out = append(out, c)
	}
	return out
}

func boolKey(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// suggest builds the generalised rule for a group, or nil when it would
// grant something of higher severity than the literals it replaces.
func (p *Proposer) suggest(g *group) *candidate {
	first := g.members[0]
	c := &candidate{profile: first.profile, general: g.kind, owner: true}
	perms := ""
	maxSev := -1
	for _, m := range g.members {
		perms = mergePerms(perms, m.perms)
		c.owner = c.owner && m.owner
		c.literals = append(c.literals, m.node)
		c.replaces = append(c.replaces, m.path)
		c.accesses = append(c.accesses, m.accesses...)
		c.ev.merge(m.ev)
		if m.sev > maxSev {
			maxSev = m.sev
		}
	}
	c.node = &profiles.FileRule{Q: profiles.Qualifiers{Owner: c.owner}, Path: g.pat, Perms: perms}
	c.sev = p.rate(c.node)
	if g.kind == GenHome && p.opts.Severity != nil {
		// @{HOME} stands for the users' homes, and each logged path is in
		// one: the rule grants in every home what it grants in these, so
		// it rates as they do, with the merged permissions. Rating the
		// glob itself would count /home/lost+found/ (which /home/*/
		// also names, and severity.db rates as the filesystem's own) as
		// a home.
		c.sev = -1
		for _, m := range g.members {
			if fr, ok := m.node.(*profiles.FileRule); ok {
				c.sev = max(c.sev, p.rate(&profiles.FileRule{Q: fr.Q, Path: fr.Path, Perms: perms}))
			}
		}
	}
	if p.opts.Severity != nil && c.sev > maxSev {
		return nil
	}
	sort.Strings(c.replaces)
	return c
}
