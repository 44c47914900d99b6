package lint

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/aa-flow/aa-flow/internal/aare"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// globCacheSize bounds how many compiled globs the severity table and the
// linter keep.
const globCacheSize = 4096

// maxVarDepth stops following variables that refer to each other.
const maxVarDepth = 32

// SeverityUnknown is the severity of something severity.db does not rate.
const SeverityUnknown = -1

// SeverityDB is AppArmor's severity database (/etc/apparmor/severity.db):
// a 0..10 danger rating for each capability and for path globs, per
// permission (read, write, exec). It is immutable once loaded and safe for
// concurrent use. A nil *SeverityDB is the built-in table alone: the
// fixed ratings of the classes severity.db does not rate and of the
// capabilities that own the machine, paths unknown.
//
// The file's format: '#' starts a comment line; "CAP_NAME N" rates a
// capability; "PATHGLOB R W X" rates reading, writing and executing the
// paths the glob matches. Unlike python3-apparmor, which takes the most
// specific entry, Path takes the maximum over every matching entry: an
// access is as dangerous as the most dangerous thing it touches.
type SeverityDB struct {
	caps  map[string]int // lower-case name without CAP_
	paths []sevPath
	vars  profiles.Vars
	cache *aare.Cache
	rated *ratingCache // Pattern results: an overlap scan of the db is ~0.5 ms
}

// ratingCache remembers Pattern results by expanded pattern and columns.
// It is bounded: when full it starts over.
type ratingCache struct {
	mu sync.Mutex
	m  map[string]int
}

const ratingCacheSize = 8192

func (c *ratingCache) get(k string) (int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[k]
	return v, ok
}

func (c *ratingCache) put(k string, v int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= ratingCacheSize {
		clear(c.m)
	}
	c.m[k] = v
}

type sevPath struct {
	pattern string
	glob    *aare.Glob
	r, w, x int
}

// Fixed severities of rule classes severity.db does not rate. They follow
// the db's scale: 10 owns the machine, 8 denial of service or information
// leak, under 5 mostly harmless.
const (
	sevUnconfinedExec = 10 // ux, Ux, pux: leaves confinement entirely
	sevNetworkAll     = 7  // bare network,: every family, raw sockets included
	sevNetworkRaw     = 8  // raw or packet sockets: sniffing, spoofing
	sevNetworkNetlink = 6  // netlink: talks to kernel subsystems
	sevNetworkInet    = 4  // ordinary inet/inet6 sockets
	sevNetworkOther   = 5
	sevSignalAll      = 6 // any signal to any peer
	sevSignal         = 3
	sevPtraceTrace    = 9 // trace: full control of the peer
	sevPtraceRead     = 6 // read: /proc/PID/* of the peer
	sevUnixAll        = 5
	sevUnix           = 3
	sevDbusAll        = 6
	sevDbus           = 3
	sevMount          = 9 // mount/remount/pivot_root: rewrite the namespace
	sevUmount         = 7
	sevChangeProfile  = 7 // bare change_profile: to any profile
	sevChangeTo       = 5
	sevUserns         = 7 // user namespaces: a large kernel attack surface
	sevUringCreds     = 8 // io_uring override_creds to any label: act as another task
	sevUringCredsTo   = 5 // io_uring override_creds to one label
	sevOther          = 3 // mqueue, io_uring sqpoll, rlimit
)

// DefaultSeverityDB is where apparmor-utils installs AppArmor's ratings.
const DefaultSeverityDB = "/etc/apparmor/severity.db"

// OpenSeverity reads the severity table that learn and lint share from path
// ("" is DefaultSeverityDB). Without apparmor-utils the default file is
// missing: that is the built-in table (a nil *SeverityDB, whose methods
// rate what they can without the db) and no error. A file named
// explicitly must exist, and a damaged file is an error either way.
func OpenSeverity(path string) (*SeverityDB, error) {
	if path == "" {
		db, err := LoadSeverity(DefaultSeverityDB)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return db, err
	}
	return LoadSeverity(path)
}

// LoadSeverity reads a severity database file.
func LoadSeverity(path string) (*SeverityDB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load severity db: %w", err)
	}
	defer f.Close()
	return ParseSeverity(f, path)
}

// ParseSeverity reads a severity database; name is used in error messages,
// which give the line.
func ParseSeverity(r io.Reader, name string) (*SeverityDB, error) {
	db := &SeverityDB{caps: map[string]int{}, cache: aare.NewCache(globCacheSize), rated: &ratingCache{m: map[string]int{}}}
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Fields(text)
		switch {
		case strings.HasPrefix(fields[0], "CAP_"):
			if len(fields) != 2 {
				return nil, fmt.Errorf("%s:%d: capability line needs NAME SEVERITY, got %q", name, line, text)
			}
			v, err := sevValue(fields[1])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %s: %w", name, line, fields[0], err)
			}
			db.caps[strings.ToLower(strings.TrimPrefix(fields[0], "CAP_"))] = v
		case strings.HasPrefix(fields[0], "/"):
			if len(fields) != 4 {
				return nil, fmt.Errorf("%s:%d: path line needs PATH READ WRITE EXEC, got %q", name, line, text)
			}
			var vals [3]int
			for i := range vals {
				v, err := sevValue(fields[i+1])
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %s: %w", name, line, fields[0], err)
				}
				vals[i] = v
			}
			g, err := aare.Compile(fields[0])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, line, err)
			}
			db.paths = append(db.paths, sevPath{pattern: fields[0], glob: g, r: vals[0], w: vals[1], x: vals[2]})
		default:
			return nil, fmt.Errorf("%s:%d: unexpected line %q (want CAP_NAME N or /path R W X)", name, line, text)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line, err)
	}
	return db, nil
}

func sevValue(s string) (int, error) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 0 || v > 10 {
		return 0, fmt.Errorf("severity %q is not a number from 0 to 10", s)
	}
	return v, nil
}

// WithVars returns a copy of db that expands @{VAR} in rules with vars
// (typically a Policy's). Variables it does not know are taken as "any
// path", so a rating is never lower than the truth.
func (db *SeverityDB) WithVars(vars profiles.Vars) *SeverityDB {
	if db == nil {
		return nil
	}
	c := *db
	c.vars = vars
	c.rated = &ratingCache{m: map[string]int{}} // results depend on the variables
	return &c
}

// Capability returns a capability's severity (name with or without CAP_,
// any case): the db's rating, else the built-in one of the capabilities
// that own the machine (builtinCaps), else SeverityUnknown. A nil db is
// the built-in table alone.
func (db *SeverityDB) Capability(name string) int {
	name = strings.ToLower(strings.TrimPrefix(strings.ToUpper(name), "CAP_"))
	if db != nil {
		if v, ok := db.caps[name]; ok {
			return v
		}
	}
	if v, ok := builtinCaps()[name]; ok {
		return v
	}
	return SeverityUnknown
}

// builtinCaps rates capabilities without a severity db (severity.db's
// 9 and 10 entries).
func builtinCaps() map[string]int {
	return map[string]int{
		"sys_admin": 10, "sys_chroot": 10, "sys_module": 10, "sys_ptrace": 10, "sys_rawio": 10,
		"mac_admin": 10, "mac_override": 10, "setpcap": 9, "setfcap": 9, "chown": 9, "fsetid": 9,
		"mknod": 9, "linux_immutable": 9, "dac_override": 9, "setgid": 9, "setuid": 9, "fowner": 9,
		"bpf": 9, "checkpoint_restore": 9,
	}
}

// maxCapability is the highest capability severity in the table.
func (db *SeverityDB) maxCapability() int {
	m := SeverityUnknown
	for _, v := range builtinCaps() {
		m = max(m, v)
	}
	if db != nil {
		for _, v := range db.caps {
			m = max(m, v)
		}
	}
	return m
}

// permClasses maps file permission letters to the db's columns: reading;
// writing (w a c d, and l k which change or lock the file); executing (x,
// and m which maps the file executable).
func permClasses(perms string) (r, w, x bool) {
	for _, c := range perms {
		switch c {
		case 'r':
			r = true
		case 'w', 'a', 'c', 'd', 'l', 'k':
			w = true
		case 'x', 'm':
			x = true
		}
	}
	return
}

func (e *sevPath) rate(r, w, x bool) int {
	v := SeverityUnknown
	if r {
		v = max(v, e.r)
	}
	if w {
		v = max(v, e.w)
	}
	if x {
		v = max(v, e.x)
	}
	return v
}

// sensitiveObject is a path whose access is dangerous whatever the service,
// whatever severity.db says. It is part of the one severity table: Rule (the
// rating learn and lint give a rule) and lint's sensitive-path check both
// read it, so a rule is rated the same wherever it is rated, by the most
// sensitive object its pattern can reach.
type sensitiveObject struct {
	glob     string // the paths of the object, an AppArmor glob
	perms    string // the permission letters that make it dangerous
	severity int
	why      string
}

// sensitiveObjects lists them. A rule reaches one when its pattern overlaps
// the object's glob with one of its permissions.
var sensitiveObjects = []sensitiveObject{
	{"/proc/[0-9]*/{,task/[0-9]*/}mem", "rwa", 10, "another process's memory (@{PROC}/*/mem): read secrets, write code"},
	{"/proc/[0-9]*/{,task/[0-9]*/}environ", "r", 7, "another process's environment (secrets in variables)"},
	{"/proc/kcore", "r", 10, "kernel memory (/proc/kcore)"},
	{"/dev/mem", "rwa", 10, "physical memory (/dev/mem)"},
	{"/dev/kmem", "rwa", 10, "kernel memory (/dev/kmem)"},
	{"/dev/port", "rwa", 10, "I/O ports (/dev/port)"},
	{"/proc/sysrq-trigger", "wa", 10, "magic SysRq: reboot, crash or freeze the host"},
	{"/proc/sys/kernel/modprobe", "wa", 10, "the module loader path: run any program as root"},
	{"/proc/sys/kernel/core_pattern", "wa", 10, "the core dump handler: run any program as root"},
	{"/sys/kernel/security/apparmor/**", "wa", 10, "replace AppArmor policy"},
	{"/etc/apparmor.d/**", "wa", 10, "AppArmor profiles: rewrite its own confinement"},
	{"/etc/{,g}shadow", "r", 8, "password hashes (/etc/shadow)"},
	{"/etc/{,g}shadow", "wa", 10, "password hashes (/etc/shadow)"},
	{"/etc/sudoers{,.d/**}", "wa", 10, "sudo policy"},
	{"/etc/ld.so.preload", "wa", 10, "code injected into every program (/etc/ld.so.preload)"},
	{"/boot/**", "wa", 10, "the kernel and boot loader files"},
	{"{/root,/home/*}/.ssh/{authorized_keys*,id_*}", "wa", 10, "SSH keys: log in as that user, or be them"},
	{"{/root,/home/*}/.ssh/id_*", "r", 8, "users' SSH private keys"},
	{"{/root,/home/*}/.gnupg/{?*,private-keys-v1.d/?*}", "r", 8, "users' GnuPG keys"},
}

// sensitiveGlobs holds sensitiveObjects compiled, in the same order.
var sensitiveGlobs = func() []*aare.Glob {
	out := make([]*aare.Glob, len(sensitiveObjects))
	for i, o := range sensitiveObjects {
		g, err := aare.Compile(o.glob)
		if err != nil {
			panic("lint: sensitive object " + o.glob + ": " + err.Error())
		}
		out[i] = g
	}
	return out
}()

// worstSensitive returns the most severe object that g reaches with perms,
// nil when it reaches none.
func worstSensitive(g *aare.Glob, perms string) *sensitiveObject {
	var worst *sensitiveObject
	lit, isLit := g.Literal()
	for i := range sensitiveObjects {
		o := &sensitiveObjects[i]
		if !strings.ContainsAny(perms, o.perms) || (worst != nil && o.severity <= worst.severity) {
			continue
		}
		if (isLit && sensitiveGlobs[i].Match(lit)) || (!isLit && aare.Overlaps(g, sensitiveGlobs[i])) {
			worst = o
		}
	}
	return worst
}

// sensitivePattern is the severity of the most severe sensitive object a
// rule pattern reaches with perms, SeverityUnknown for none. Unknown
// variables count as any path.
func (db *SeverityDB) sensitivePattern(pattern, perms string) int {
	var g *aare.Glob
	var err error
	if db == nil {
		g, err = aare.Compile(pattern)
	} else {
		g, err = db.compileRulePattern(pattern)
	}
	if err != nil {
		return SeverityUnknown
	}
	if o := worstSensitive(g, perms); o != nil {
		return o.severity
	}
	return SeverityUnknown
}

// maxSensitive is the highest severity of any sensitive object.
func maxSensitive() int {
	v := SeverityUnknown
	for _, o := range sensitiveObjects {
		v = max(v, o.severity)
	}
	return v
}

// Path returns the severity of perms (file permission letters) on one
// concrete path: the maximum over every db entry matching the path,
// SeverityUnknown when none does.
func (db *SeverityDB) Path(path, perms string) int {
	if db == nil {
		return SeverityUnknown
	}
	r, w, x := permClasses(perms)
	v := SeverityUnknown
	for i := range db.paths {
		if db.paths[i].glob.Match(path) {
			v = max(v, db.paths[i].rate(r, w, x))
		}
	}
	return v
}

// Matching returns the db's path entries (as written in the file) that match
// path, in file order: the ones Path takes the maximum over.
func (db *SeverityDB) Matching(path string) []string {
	if db == nil {
		return nil
	}
	var out []string
	for i := range db.paths {
		if db.paths[i].glob.Match(path) {
			out = append(out, db.paths[i].pattern)
		}
	}
	return out
}

// Pattern returns the severity of perms on every path a rule pattern could
// name: the maximum over db entries whose glob overlaps the pattern's.
// Unknown variables count as any path.
func (db *SeverityDB) Pattern(pattern, perms string) int {
	if db == nil {
		return SeverityUnknown
	}
	r, w, x := permClasses(perms)
	g, err := db.compileRulePattern(pattern)
	if err != nil {
		return db.worstPath(r, w, x)
	}
	if lit, ok := g.Literal(); ok {
		return db.Path(lit, perms)
	}
	key := fmt.Sprintf("%t%t%t%s", r, w, x, g.String())
	if v, ok := db.rated.get(key); ok {
		return v
	}
	v := SeverityUnknown
	for i := range db.paths {
		if aare.Overlaps(g, db.paths[i].glob) {
			v = max(v, db.paths[i].rate(r, w, x))
		}
	}
	db.rated.put(key, v)
	return v
}

func (db *SeverityDB) worstPath(r, w, x bool) int {
	v := SeverityUnknown
	if db == nil {
		return v
	}
	for i := range db.paths {
		v = max(v, db.paths[i].rate(r, w, x))
	}
	return v
}

// compileRulePattern expands variables, unknown ones as "/**" (any path).
func (db *SeverityDB) compileRulePattern(pattern string) (*aare.Glob, error) {
	vars := db.vars
	cloned := false
	for _, name := range variableNames(pattern, db.vars) {
		if _, ok := vars[name]; !ok {
			if !cloned {
				vars, cloned = db.vars.Clone(), true
			}
			vars[name] = []string{"/**"}
		}
	}
	exp, err := vars.Expand(pattern)
	if err != nil {
		return nil, err
	}
	return db.cache.Compile(exp)
}

// variableNames lists the variables pattern uses, following the values of
// known ones.
func variableNames(pattern string, vars profiles.Vars) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(p string, depth int)
	walk = func(p string, depth int) {
		if depth > maxVarDepth {
			return
		}
		for {
			i := strings.Index(p, "@{")
			if i < 0 {
				return
			}
			j := strings.IndexByte(p[i:], '}')
			if j < 0 {
				return
			}
			name := p[i+2 : i+j]
			p = p[i+j+1:]
			if seen[name] {
				continue
			}
			seen[name] = true
			out = append(out, name)
			for _, v := range vars[name] {
				walk(v, depth+1)
			}
		}
	}
	walk(pattern, 0)
	return out
}

// Rule returns the severity of a rule: for file rules the highest rating of
// any db entry the rule's pattern could reach with its permissions, for
// capabilities the highest of the named ones, and for the other classes the
// fixed values documented on the constants above. Deny rules rate 0: they
// grant nothing. It returns SeverityUnknown when nothing rates the rule.
func (db *SeverityDB) Rule(n profiles.Node) int {
	if q := profiles.RuleQualifiers(n); q != nil && q.Deny {
		return 0
	}
	switch r := n.(type) {
	case *profiles.FileRule:
		if isUnconfinedExec(r.Exec) {
			return sevUnconfinedExec
		}
		perms := r.Perms
		if r.Exec != "" {
			perms += "x"
		}
		if r.Path == "" { // bare file,
			return max(db.worstPath(true, true, true), maxSensitive())
		}
		return max(db.Pattern(r.Path, perms), db.sensitivePattern(r.Path, perms))
	case *profiles.LinkRule:
		return max(db.Pattern(r.Path, "w"), db.Pattern(r.Target, "w"), db.sensitivePattern(r.Path, "w"), db.sensitivePattern(r.Target, "w"))
	case *profiles.CapabilityRule:
		if len(r.Caps) == 0 {
			return db.maxCapability()
		}
		v := SeverityUnknown
		for _, c := range r.Caps {
			v = max(v, db.Capability(c))
		}
		return v
	case *profiles.NetworkRule:
		switch {
		case r.Family == "" && r.Type == "" && r.Protocol == "":
			return sevNetworkAll
		case r.Family == "packet" || r.Type == "raw" || r.Type == "packet":
			return sevNetworkRaw
		case r.Family == "netlink":
			return sevNetworkNetlink
		case (r.Family == "inet" || r.Family == "inet6") && r.Type != "":
			return sevNetworkInet
		case r.Family == "inet" || r.Family == "inet6":
			return sevNetworkRaw // every type, raw included
		}
		return sevNetworkOther
	case *profiles.ClassRule:
		bare := len(r.Conds) == 0 && len(r.Peer) == 0 && len(r.Args) == 0 && r.Target == ""
		switch policy.Class(r.Class) {
		case policy.ClassSignal:
			if bare {
				return sevSignalAll
			}
			return sevSignal
		case policy.ClassPtrace:
			if len(r.Access) == 0 || policy.AccessIncluded(policy.ClassPtrace, r.Access, []string{"trace"}) {
				return sevPtraceTrace
			}
			return sevPtraceRead
		case policy.ClassUnix:
			if bare {
				return sevUnixAll
			}
			return sevUnix
		case policy.ClassDbus:
			if bare {
				return sevDbusAll
			}
			return sevDbus
		case policy.ClassMount, policy.ClassRemount, policy.ClassPivotRoot:
			return sevMount
		case policy.ClassUmount:
			return sevUmount
		case policy.ClassUserns:
			return sevUserns
		case policy.ClassIOUring:
			if len(r.Access) == 0 || policy.AccessIncluded(policy.ClassIOUring, r.Access, []string{"override_creds"}) {
				for _, c := range r.Conds {
					if c.Key == "label" && len(c.Values) == 1 && !aare.HasGlob(c.Values[0]) {
						return sevUringCredsTo
					}
				}
				return sevUringCreds
			}
		}
		return sevOther
	case *profiles.ChangeProfileRule:
		if len(r.Targets) == 0 {
			return sevChangeProfile
		}
		for _, t := range r.Targets {
			if t == "unconfined" || aare.HasGlob(t) {
				return sevChangeProfile
			}
		}
		return sevChangeTo
	case *profiles.RlimitRule:
		return sevOther
	}
	return SeverityUnknown
}

// isUnconfinedExec reports whether an exec mode can leave confinement:
// ux, Ux, and the px/cx fallbacks to unconfined (pux, PUx, cux, CUx).
func isUnconfinedExec(mode string) bool {
	return strings.ContainsAny(mode, "uU")
}
