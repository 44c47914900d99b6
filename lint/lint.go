package lint

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/aa-flow/aa-flow/internal/aare"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// Warning is one finding of Lint: a rule broader than a service should need,
// or one that behaves differently from what its author likely meant.
type Warning struct {
	Pos      profiles.Pos `json:"pos"`
	Profile  string       `json:"profile,omitempty"` // the kernel name of the profile holding the rule ("" at file level)
	Check    string       `json:"check"`             // the check's identifier, see the Check* constants
	Severity int          `json:"severity"`          // 0..10 on severity.db's scale
	Rule     string       `json:"rule,omitempty"`    // a short rendering of the rule
	Message  string       `json:"message"`           // why it is flagged
}

func (w Warning) String() string {
	return fmt.Sprintf("%s: severity %d: [%s] %s", w.Pos, w.Severity, w.Check, w.Message)
}

// The lint checks.
const (
	CheckBroadPath       = "broad-path"        // /**, /, a whole top-level tree
	CheckBareRule        = "bare-rule"         // capability, network, file, dbus, unix, ... with no restriction
	CheckUnconfinedExec  = "unconfined-exec"   // ux, Ux, pux, cux ...: the child runs unconfined
	CheckWritableExec    = "writable-exec"     // a path both writable and executable (or mappable executable)
	CheckSensitivePath   = "sensitive-path"    // /proc/PID/mem, /dev/mem, /etc/shadow, module loading ...
	CheckCapability      = "capability"        // capabilities that own the machine
	CheckDenyInComplain  = "deny-in-complain"  // deny rules still deny in complain mode
	CheckUnconfinedPeer  = "unconfined-target" // change_profile/ptrace to unconfined
	CheckUnknownVariable = "unknown-variable"  // a variable the file and its tunables do not define
	CheckABIChange       = "abi-change"        // a rule whose meaning depends on the ABI it is compiled for
	CheckBeyondABI       = "beyond-abi"        // a rule the pinned abi cannot express
)

// LintOptions tune Lint. The zero value lints with built-in severities and
// no variables beyond the file's own and DefaultVars.
type LintOptions struct {
	// Severity rates rules (severity.db); nil uses the built-in fixed
	// ratings of the checks.
	Severity *SeverityDB
	// Vars are variables from the tunables the file includes; the file's
	// own definitions and DefaultVars fill in the rest.
	Vars profiles.Vars
	// KernelABI is the newest abi the running kernel covers ("4.0";
	// kernel.ABI.Covers), "" when unknown.
	KernelABI string
	// PinnedFeatures are the features of the abi file the file pins; nil
	// when it pins none or the file was not found (no rule is checked
	// against them then).
	PinnedFeatures kernel.Features
}

// DefaultVars returns the values Debian's tunables give the most used
// variables, for linting a file whose includes are not followed. A new map
// is returned on each call.
func DefaultVars() profiles.Vars {
	return profiles.Vars{
		"HOME":              {"@{HOMEDIRS}/*/", "/root/"},
		"HOMEDIRS":          {"/home/"},
		"PROC":              {"/proc/"},
		"sys":               {"/sys/"},
		"run":               {"/run/", "/var/run/"},
		"pid":               {"{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}"},
		"pids":              {"{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}"},
		"tid":               {"{[1-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9]}"},
		"uid":               {"{[0-9],[1-9][0-9],[1-9][0-9][0-9],[1-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9],[1-4][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]}"},
		"multiarch":         {"*-linux-gnu*"},
		"etc_ro":            {"/etc/", "/usr/etc/"},
		"etc_rw":            {"/etc/"},
		"user_share_base":   {"/usr/share/", "/usr/local/share/"},
		"system_share_dirs": {"/usr/share/", "/usr/local/share/"},
		"apparmorfs":        {"/sys/kernel/security/apparmor/"},
		"securityfs":        {"/sys/kernel/security/"},
		"XDG_RUNTIME_DIR":   {"/run/user/@{uid}"},
	}
}

// topLevelTrees returns the directories whose whole tree a service should never
// need.
func topLevelTrees() []string {
	return []string{"bin", "boot", "dev", "etc", "home", "lib", "lib32", "lib64", "media", "mnt", "opt", "proc", "root", "run", "sbin", "srv", "sys", "usr", "var"}
}

// Lint reports rules in f that are broader than a service needs. Rules in
// every profile, child profile and hat are checked, and file-level rules of
// an abstraction. Includes are not followed: each file is linted on its own.
// Warnings come sorted by position.
func Lint(f *profiles.File, opts LintOptions) []Warning {
	vars := DefaultVars()
	for k, v := range opts.Vars {
		vars[k] = append([]string(nil), v...)
	}
	l := &linter{opts: opts, vars: vars, cache: aare.NewCache(globCacheSize)}
	var fileRules []profiles.Node
	for _, n := range f.Items {
		switch x := n.(type) {
		case *profiles.Variable:
			l.vars.Define(x)
		case *profiles.Abi:
			l.abi = strings.TrimPrefix(x.Path, "abi/")
		}
	}
	l.sev = opts.Severity.WithVars(l.vars)
	for _, n := range f.Items {
		switch x := n.(type) {
		case *profiles.Profile:
			l.profile(x, "")
		default:
			fileRules = append(fileRules, n)
		}
	}
	l.rules(fileRules, "", false)
	sort.SliceStable(l.out, func(i, j int) bool {
		a, b := l.out[i].Pos, l.out[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l.out
}

type linter struct {
	opts  LintOptions
	abi   string      // the file's pinned abi ("3.0"), "" when it has no abi line
	sev   *SeverityDB // opts.Severity with the file's variables, or nil
	vars  profiles.Vars
	cache *aare.Cache
	out   []Warning
}

func (l *linter) profile(p *profiles.Profile, parent string) {
	name := p.DisplayName()
	if parent != "" {
		name = parent + "//" + name
	}
	l.rules(p.Rules, name, p.HasFlag("complain"))
	for _, c := range p.Children() {
		l.profile(c, name)
	}
}

func (l *linter) warn(n profiles.Node, profile, check string, sev int, rule, format string, args ...any) {
	l.out = append(l.out, Warning{
		Pos: n.NodeMeta().Pos, Profile: profile, Check: check, Severity: sev,
		Rule: rule, Message: fmt.Sprintf(format, args...),
	})
}

// rate returns the severity table's rating of n (the one learn gives it),
// or fallback when the table does not rate it, never less than floor.
func (l *linter) rate(n profiles.Node, fallback, floor int) int {
	v := l.sev.Rule(n)
	if v == SeverityUnknown {
		v = fallback
	}
	return max(v, floor)
}

// writeExec remembers the expanded patterns of rules granting write and
// exec, to find paths that are both across rules.
type permRule struct {
	node profiles.Node
	glob *aare.Glob
	text string
}

func (l *linter) rules(items []profiles.Node, profile string, complain bool) {
	var writers, execs, mappers []permRule
	for _, n := range items {
		q := profiles.RuleQualifiers(n)
		if q == nil {
			continue
		}
		if q.Deny {
			if complain {
				l.warn(n, profile, CheckDenyInComplain, 7, ruleText(n),
					"deny rule in a complain-mode profile: it still denies, so the service fails there while the log shows nothing to learn")
			}
			continue
		}
		switch r := n.(type) {
		case *profiles.FileRule:
			l.fileRule(r, profile, &writers, &execs, &mappers)
		case *profiles.LinkRule:
			if g, ok := l.compile(r, r.Target, profile); ok && coversBroad(g) {
				l.warn(r, profile, CheckBroadPath, l.rate(r, 7, 7), ruleText(r), "link to any file: hard links let the service reach files by a name its other rules allow")
			}
		case *profiles.CapabilityRule:
			if len(r.Caps) == 0 {
				l.warn(r, profile, CheckBareRule, l.rate(r, 10, 10), ruleText(r), "every capability: root's full privileges, confinement is moot")
				continue
			}
			var bad []string
			worst := 0
			for _, c := range r.Caps {
				sev := l.opts.Severity.Capability(c)
				if sev >= 9 {
					bad = append(bad, c)
					worst = max(worst, sev)
				}
			}
			if len(bad) > 0 {
				l.warn(r, profile, CheckCapability, worst, ruleText(r), "capability %s lets the service take over the host or other processes", strings.Join(bad, ", "))
			}
		case *profiles.NetworkRule:
			if r.Family == "" && r.Type == "" && r.Protocol == "" && len(r.Access) == 0 && len(r.Conds) == 0 && len(r.Peer) == 0 {
				l.warn(r, profile, CheckBareRule, l.rate(r, sevNetworkAll, 0), ruleText(r), "every network family and socket type, raw and packet sockets included")
				l.networkABI(r, profile)
			} else if r.Type == "raw" || r.Family == "packet" {
				l.warn(r, profile, CheckBareRule, l.rate(r, sevNetworkRaw, 0), ruleText(r), "raw or packet sockets: sniff and forge traffic")
			}
		case *profiles.ClassRule:
			l.classRule(r, profile)
			l.beyondABI(r, profile)
		case *profiles.ChangeProfileRule:
			if len(r.Targets) == 0 {
				l.warn(r, profile, CheckBareRule, l.rate(r, sevChangeProfile, 0), ruleText(r), "change_profile to any profile, unconfined included")
			}
			for _, t := range r.Targets {
				if t == "unconfined" {
					l.warn(r, profile, CheckUnconfinedPeer, 10, ruleText(r), "change_profile to unconfined: the service can leave confinement")
				}
			}
		}
	}
	// a path one rule makes writable and another executable (or mappable
	// executable): reported once, at the writing rule
	l.crossWriteExec(writers, execs, profile, 9, "executable")
	l.crossWriteExec(writers, mappers, profile, 6, "mappable executable (m)")
}

func (l *linter) crossWriteExec(writers, execs []permRule, profile string, sev int, what string) {
	const maxListed = 3
	for _, w := range writers {
		var hits []string
		for _, x := range execs {
			if w.node == x.node || !aare.Overlaps(w.glob, x.glob) {
				continue
			}
			hits = append(hits, fmt.Sprintf("%s (line %d)", x.text, x.node.NodeMeta().Pos.Line))
		}
		if len(hits) == 0 {
			continue
		}
		more := ""
		if len(hits) > maxListed {
			more = fmt.Sprintf(" and %d more", len(hits)-maxListed)
			hits = hits[:maxListed]
		}
		l.warn(w.node, profile, CheckWritableExec, sev, ruleText(w.node),
			"%s makes writable paths that other rules make %s: %s%s; the service can run code it wrote", w.text, what, strings.Join(hits, ", "), more)
	}
}

// networkABI warns where a bare network rule's meaning depends on the ABI:
// up to abi/3.0 it allows unix sockets too; from abi/4.0 on unix sockets
// are mediated by unix rules, so the same line no longer allows them.
func (l *linter) networkABI(r *profiles.NetworkRule, profile string) {
	pinned, kernel := abiAtLeast4(l.abi), abiAtLeast4(l.opts.KernelABI)
	switch {
	case l.abi != "" && pinned:
		l.warn(r, profile, CheckABIChange, 0, ruleText(r), "under the pinned abi/%s a bare network rule no longer allows unix sockets: they need unix rules", l.abi)
	case l.abi != "" && kernel:
		l.warn(r, profile, CheckABIChange, 0, ruleText(r), "allows unix sockets only while the file pins abi/%s: compiled for the kernel's abi/%s it would not", l.abi, l.opts.KernelABI)
	case l.abi == "" && kernel:
		l.warn(r, profile, CheckABIChange, 0, ruleText(r), "the file pins no abi, so it is compiled for the kernel's abi/%s, where a bare network rule does not allow unix sockets", l.opts.KernelABI)
	}
}

// beyondABI warns about a rule the pinned abi cannot express: compiled for
// that abi, the policy has no such rule.
func (l *linter) beyondABI(r *profiles.ClassRule, profile string) {
	if l.opts.PinnedFeatures == nil || l.abi == "" {
		return
	}
	kind := ""
	for _, c := range r.Conds {
		if c.Key == "type" && len(c.Values) == 1 {
			kind = c.Values[0]
		}
	}
	if missing := l.opts.PinnedFeatures.MissingFor(r.Class, kind, r.Access); missing != "" {
		l.warn(r, profile, CheckBeyondABI, 0, ruleText(r), "the pinned abi/%s cannot express this rule (it lacks %s): apparmor_parser leaves it out of the compiled policy; pin a newer abi or drop the rule", l.abi, missing)
	}
}

// abiAtLeast4 reports whether an abi version ("3.0", "4.0", "5.0") is 4.0
// or newer.
func abiAtLeast4(v string) bool {
	major, _, _ := strings.Cut(v, ".")
	n, err := strconv.Atoi(major)
	return err == nil && n >= 4
}

func (l *linter) compile(n profiles.Node, pattern, profile string) (*aare.Glob, bool) {
	exp, err := l.vars.Expand(pattern)
	if err != nil {
		l.warn(n, profile, CheckUnknownVariable, 0, ruleText(n), "cannot check the path: %v", err)
		return nil, false
	}
	g, err := l.cache.Compile(exp)
	if err != nil {
		return nil, false // the parser and apparmor_parser report bad globs
	}
	return g, true
}

// coversBroad reports whether a glob reaches the whole filesystem: it
// matches paths in several unrelated top-level trees.
func coversBroad(g *aare.Glob) bool {
	files, dirs := 0, 0
	for _, top := range []string{"/etc/shadow", "/usr/bin/x", "/home/u/x", "/proc/1/mem", "/var/lib/x"} {
		if g.Match(top) {
			files++
		}
		if g.Match(top + "/") {
			dirs++
		}
	}
	return files >= 3 || dirs >= 3
}

// wholeTree returns the top-level directory whose entire tree g matches.
func wholeTree(g *aare.Glob) string {
	for _, top := range topLevelTrees() {
		probes := []string{"/" + top + "/a", "/" + top + "/a/b/c", "/" + top + "/a/b/"}
		all := true
		for _, p := range probes {
			if !g.Match(p) {
				all = false
				break
			}
		}
		if all {
			return top
		}
	}
	return ""
}

func (l *linter) fileRule(r *profiles.FileRule, profile string, writers, execs, mappers *[]permRule) {
	text := ruleText(r)
	if isUnconfinedExec(r.Exec) {
		sev := 10
		why := "the program runs unconfined"
		if len(r.Exec) == 3 { // pux, cux ...: only when no profile exists
			sev = 9
			why = "the program runs unconfined when its profile is missing"
		}
		l.warn(r, profile, CheckUnconfinedExec, sev, text, "%s (%s): %s; use px/cx with a profile, or ix", r.Exec, r.Path, why)
	}
	if r.Path == "" {
		l.warn(r, profile, CheckBareRule, l.rate(r, 10, 10), text, "bare file rule: every path with every permission")
		return
	}
	g, ok := l.compile(r, r.Path, profile)
	if !ok {
		return
	}
	perms := policy.RulePerms(r)
	write := strings.ContainsAny(perms, "wa")
	exec := strings.ContainsRune(perms, 'x')
	switch {
	case coversBroad(g) || g.Match("/"):
		l.warn(r, profile, CheckBroadPath, l.rate(r, 8, 8), text, "%s reaches the whole filesystem", r.Path)
	default:
		if top := wholeTree(g); top != "" {
			l.warn(r, profile, CheckBroadPath, l.rate(r, 6, 0), text, "%s grants the whole /%s tree", r.Path, top)
		}
	}
	if write && exec {
		l.warn(r, profile, CheckWritableExec, 9, text, "%s is writable and executable: the service can run code it wrote", r.Path)
	} else if write && strings.ContainsRune(perms, 'm') {
		l.warn(r, profile, CheckWritableExec, 6, text, "%s is writable and can be mapped executable (m)", r.Path)
	}
	if worst := worstSensitive(g, perms); worst != nil {
		l.warn(r, profile, CheckSensitivePath, worst.severity, text, "%s reaches %s", r.Path, worst.why)
	}
	pr := permRule{node: r, glob: g, text: r.Path}
	if write {
		*writers = append(*writers, pr)
	}
	if exec {
		*execs = append(*execs, pr)
	} else if strings.ContainsRune(perms, 'm') {
		*mappers = append(*mappers, pr)
	}
}

func (l *linter) classRule(r *profiles.ClassRule, profile string) {
	bare := len(r.Access) == 0 && len(r.Conds) == 0 && len(r.Peer) == 0 && len(r.Args) == 0 && r.Target == ""
	text := ruleText(r)
	if bare {
		why := map[policy.Class]string{
			policy.ClassDbus:      "every D-Bus message on every bus: talk to systemd, polkit, NetworkManager ...",
			policy.ClassUnix:      "every unix socket operation with every peer",
			policy.ClassSignal:    "send any signal to any process the kernel lets it",
			policy.ClassPtrace:    "trace and read any process the kernel lets it",
			policy.ClassMount:     "mount anything anywhere: rewrite the filesystem namespace",
			policy.ClassRemount:   "remount anything",
			policy.ClassUmount:    "unmount anything",
			policy.ClassPivotRoot: "pivot_root anywhere",
			policy.ClassUserns:    "create user namespaces: a large kernel attack surface",
			policy.ClassMqueue:    "every message queue",
			policy.ClassIOUring:   "io_uring with any credentials",
		}[policy.Class(r.Class)]
		if why == "" {
			why = "no restriction"
		}
		l.warn(r, profile, CheckBareRule, l.rate(r, sevOther, 0), text, "bare %s rule: %s", r.Class, why)
		return
	}
	for _, c := range r.Peer {
		for _, v := range c.Values {
			if v == "unconfined" && policy.Class(r.Class) == policy.ClassPtrace {
				l.warn(r, profile, CheckUnconfinedPeer, 9, text, "ptrace of unconfined processes")
			}
		}
	}
}

// ruleText renders a rule briefly for warnings.
func ruleText(n profiles.Node) string {
	var b strings.Builder
	q := profiles.RuleQualifiers(n)
	if q != nil {
		for _, w := range []struct {
			on   bool
			word string
		}{{q.Audit, "audit"}, {q.Deny, "deny"}, {q.Owner, "owner"}, {q.Other, "other"}} {
			if w.on {
				b.WriteString(w.word + " ")
			}
		}
	}
	switch r := n.(type) {
	case *profiles.FileRule:
		if r.Path == "" {
			b.WriteString("file")
			break
		}
		b.WriteString(r.Path + " " + r.Perms + r.Exec)
		if r.Target != "" {
			b.WriteString(" -> " + r.Target)
		}
	case *profiles.LinkRule:
		b.WriteString("link ")
		if r.Subset {
			b.WriteString("subset ")
		}
		b.WriteString(r.Path + " -> " + r.Target)
	case *profiles.CapabilityRule:
		b.WriteString(strings.TrimSpace("capability " + strings.Join(r.Caps, " ")))
	case *profiles.NetworkRule:
		b.WriteString(strings.Join(nonEmpty("network", strings.Join(r.Access, " "), r.Family, r.Type, r.Protocol), " "))
	case *profiles.ClassRule:
		parts := []string{r.Class}
		if len(r.Access) > 0 {
			parts = append(parts, "("+strings.Join(r.Access, ", ")+")")
		}
		for _, c := range r.Conds {
			parts = append(parts, c.Key+"="+strings.Join(c.Values, ","))
		}
		var peer []string
		for _, c := range r.Peer {
			peer = append(peer, c.Key+"="+strings.Join(c.Values, ","))
		}
		if len(peer) > 0 {
			parts = append(parts, "peer=("+strings.Join(peer, " ")+")")
		}
		parts = append(parts, r.Args...)
		if r.Target != "" {
			parts = append(parts, "->", r.Target)
		}
		b.WriteString(strings.Join(parts, " "))
	case *profiles.ChangeProfileRule:
		b.WriteString(strings.Join(nonEmpty("change_profile", r.Mode, r.Exec), " "))
		if len(r.Targets) > 0 {
			b.WriteString(" -> " + strings.Join(r.Targets, " "))
		}
	}
	return b.String() + ","
}

func nonEmpty(s ...string) []string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return out
}
