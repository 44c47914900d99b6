package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Features is an AppArmor feature set, the ABI policy is compiled for: the
// kernel's (the securityfs apparmor/features tree) or one a policy pins with
// abi <abi/3.0> (a file in the flattened form apparmor_parser reads). Each
// key is a slash-separated path ("network/af_unix", "policy/versions/v8");
// each value is that file's text with surrounding space trimmed ("yes", a
// space-separated mask such as "read trace").
type Features map[string]string

// FeaturesPath is the kernel's feature tree.
func (k *FS) FeaturesPath() string { return filepath.Join(k.secfs(), "apparmor", "features") }

// Features reads the kernel's feature set. Without AppArmor it returns an
// error wrapping ErrNoAppArmor.
func (k *FS) Features() (Features, error) {
	p := k.FeaturesPath()
	if _, err := os.Stat(p); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w (no %s): is securityfs mounted and apparmor=1 on the kernel command line?", ErrNoAppArmor, p)
		}
		return nil, fmt.Errorf("%w: %v", ErrNoAppArmor, err)
	}
	return ReadFeaturesDir(p)
}

// ReadFeaturesDir reads a feature tree laid out as the kernel exports it:
// directories for classes, a file for each feature.
func ReadFeaturesDir(dir string) (Features, error) {
	f := Features{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			if ents, err := os.ReadDir(p); err == nil && len(ents) == 0 && key != "." {
				f[key] = ""
			}
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f[key] = strings.TrimSpace(string(b))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read features %s: %w", dir, err)
	}
	return f, nil
}

// ReadFeaturesFile reads a flattened feature file such as
// /etc/apparmor.d/abi/3.0.
func ReadFeaturesFile(path string) (Features, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read features: %w", err)
	}
	f, err := ParseFeatures(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// ParseFeatures parses the flattened form of a feature tree: each entry is
// NAME {VALUE} or NAME {ENTRIES...}, as apparmor_parser writes and reads
// feature files ("ptrace {mask {read trace\n}\n}").
func ParseFeatures(data []byte) (Features, error) {
	p := &featureParser{src: string(data), line: 1}
	f := Features{}
	if err := p.entries("", f); err != nil {
		return nil, err
	}
	if p.pos < len(p.src) {
		return nil, fmt.Errorf("line %d: unexpected %q", p.line, p.src[p.pos])
	}
	return f, nil
}

type featureParser struct {
	src  string
	pos  int
	line int
}

func (p *featureParser) skipSpace() {
	for p.pos < len(p.src) && strings.IndexByte(" \t\r\n", p.src[p.pos]) >= 0 {
		if p.src[p.pos] == '\n' {
			p.line++
		}
		p.pos++
	}
}

// entries reads NAME {...} entries up to a closing brace or the end,
// storing leaves under prefix.
func (p *featureParser) entries(prefix string, f Features) error {
	for {
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] == '}' {
			return nil
		}
		start := p.pos
		for p.pos < len(p.src) && strings.IndexByte(" \t\r\n{}", p.src[p.pos]) < 0 {
			p.pos++
		}
		name := p.src[start:p.pos]
		if name == "" {
			return fmt.Errorf("line %d: expected a feature name", p.line)
		}
		p.skipSpace()
		if p.pos >= len(p.src) || p.src[p.pos] != '{' {
			return fmt.Errorf("line %d: expected { after %q", p.line, name)
		}
		p.pos++
		key := prefix + name
		rest := p.src[p.pos:]
		open, closing := strings.IndexByte(rest, '{'), strings.IndexByte(rest, '}')
		if closing < 0 {
			return fmt.Errorf("line %d: %q is not closed", p.line, name)
		}
		if open >= 0 && open < closing {
			if err := p.entries(key+"/", f); err != nil {
				return err
			}
		} else {
			f[key] = strings.TrimSpace(rest[:closing])
			p.line += strings.Count(rest[:closing], "\n")
			p.pos += closing
		}
		if p.pos >= len(p.src) || p.src[p.pos] != '}' {
			return fmt.Errorf("line %d: %q is not closed", p.line, name)
		}
		p.pos++
	}
}

// Classes returns the top-level feature classes (file, network, userns, ...),
// sorted.
func (f Features) Classes() []string {
	seen := map[string]bool{}
	for k := range f {
		c, _, _ := strings.Cut(k, "/")
		seen[c] = true
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// PolicyVersions returns the binary policy versions the kernel loads (v5,
// v6, ... under policy/versions), oldest first.
func (f Features) PolicyVersions() []string {
	var out []string
	for k := range f {
		if v, ok := strings.CutPrefix(k, "policy/versions/"); ok && !strings.Contains(v, "/") {
			out = append(out, v)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimPrefix(out[i], "v"))
		b, _ := strconv.Atoi(strings.TrimPrefix(out[j], "v"))
		if a != b {
			return a < b
		}
		return out[i] < out[j]
	})
	return out
}

// Missing returns what of want f does not provide, sorted: a feature f does
// not have ("userns/create"), or the words of a feature's value f lacks
// ("network/af_mask: xdp"). A "no" in want asks only that the feature be
// known; numbers (a capability bitmask, a domain version) are met by an
// equal or larger one.
func (f Features) Missing(want Features) []string {
	var out []string
	for k, wv := range want {
		hv, ok := f[k]
		switch {
		case !ok:
			out = append(out, k)
		case wv == hv || wv == "no" || wv == "":
		case numberAtLeast(hv, wv):
		default:
			have := map[string]bool{}
			for _, w := range strings.Fields(hv) {
				have[w] = true
			}
			var lack []string
			for _, w := range strings.Fields(wv) {
				if !have[w] {
					lack = append(lack, w)
				}
			}
			if len(lack) > 0 {
				out = append(out, k+": "+strings.Join(lack, " "))
			}
		}
	}
	sort.Strings(out)
	return out
}

// numberAtLeast reports whether have and want are both numbers (decimal,
// 0x hexadecimal, or a dotted version) and have is at least want; for a
// hexadecimal mask, have must hold every bit of want.
func numberAtLeast(have, want string) bool {
	if strings.HasPrefix(want, "0x") && strings.HasPrefix(have, "0x") {
		h, err1 := strconv.ParseUint(have[2:], 16, 64)
		w, err2 := strconv.ParseUint(want[2:], 16, 64)
		return err1 == nil && err2 == nil && w&^h == 0
	}
	hp, wp := strings.Split(have, "."), strings.Split(want, ".")
	for i := 0; i < len(hp) || i < len(wp); i++ {
		var h, w int
		var err error
		if i < len(hp) {
			if h, err = strconv.Atoi(hp[i]); err != nil {
				return false
			}
		}
		if i < len(wp) {
			if w, err = strconv.Atoi(wp[i]); err != nil {
				return false
			}
		}
		if h != w {
			return h > w
		}
	}
	return true
}

// ABI describes the kernel's feature set against the abi files a parser
// ships (/etc/apparmor.d/abi/3.0, 4.0, ...).
type ABI struct {
	// Covers is the newest numbered abi file whose every feature the
	// kernel has ("3.0"); empty when none is, or there are none.
	Covers string `json:"covers,omitempty"`
	// Nearest, when no abi file is covered, is the one the kernel lacks
	// the fewest features of (the newest of those), and Lacks what it
	// lacks: Debian 12's 6.1 kernel has all of abi/3.0 but
	// network/af_unix, which Ubuntu's kernels carry.
	Nearest string   `json:"nearest,omitempty"`
	Lacks   []string `json:"lacks,omitempty"`
	// Extra are the kernel's feature classes that abi file (Covers, else
	// Nearest) does not name (userns, io_uring, ... on a kernel newer than
	// it); every class when there is no abi file.
	Extra []string `json:"extra,omitempty"`
	// PolicyVersions are the binary policy versions the kernel loads.
	PolicyVersions []string `json:"policy_versions,omitempty"`
}

// String is the ABI in one phrase: "abi/3.0 + userns, io_uring (policy v5-v9)".
func (a ABI) String() string {
	var b strings.Builder
	switch {
	case a.Covers != "" || a.Nearest != "":
		if a.Covers != "" {
			b.WriteString("abi/" + a.Covers)
		} else {
			b.WriteString("abi/" + a.Nearest + " without " + strings.Join(a.Lacks, ", "))
		}
		if len(a.Extra) > 0 {
			b.WriteString(" + " + strings.Join(a.Extra, ", "))
		}
	default:
		b.WriteString("no known abi file covered")
		if len(a.Extra) > 0 {
			b.WriteString(" (classes: " + strings.Join(a.Extra, ", ") + ")")
		}
	}
	switch n := len(a.PolicyVersions); {
	case n == 1:
		b.WriteString(" (policy " + a.PolicyVersions[0] + ")")
	case n > 1:
		b.WriteString(" (policy " + a.PolicyVersions[0] + "-" + a.PolicyVersions[n-1] + ")")
	}
	return b.String()
}

// MatchABI measures the kernel's features against the numbered abi files
// in abiDir (files named like 3.0 or 4.0; others, such as
// kernel-5.4-vanilla, describe one kernel and are skipped). A missing
// abiDir is no error: the result then names no abi file.
func MatchABI(kernel Features, abiDir string) (ABI, error) {
	a := ABI{PolicyVersions: kernel.PolicyVersions()}
	ents, err := os.ReadDir(abiDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return a, fmt.Errorf("read abi files: %w", err)
	}
	var covered, nearest Features
	for _, e := range ents {
		if e.IsDir() || !numberAtLeast(e.Name(), "0") || (a.Covers != "" && !numberAtLeast(e.Name(), a.Covers)) {
			continue
		}
		want, err := ReadFeaturesFile(filepath.Join(abiDir, e.Name()))
		if err != nil {
			return a, err
		}
		switch miss := kernel.Missing(want); {
		case len(miss) == 0:
			a.Covers, covered = e.Name(), want
		case a.Nearest == "" || len(miss) < len(a.Lacks) || len(miss) == len(a.Lacks) && numberAtLeast(e.Name(), a.Nearest):
			a.Nearest, a.Lacks, nearest = e.Name(), miss, want
		}
	}
	if a.Covers != "" {
		a.Nearest, a.Lacks = "", nil
	} else {
		covered = nearest
	}
	known := map[string]bool{}
	for _, c := range covered.Classes() {
		known[c] = true
	}
	for _, c := range kernel.Classes() {
		if !known[c] {
			a.Extra = append(a.Extra, c)
		}
	}
	return a, nil
}

// ruleFeatures are the features a rule class beyond abi/3.0's needs, as the
// kernel lists them under /sys/kernel/security/apparmor/features and abi
// files copy them: the feature's path and the word its value holds for an
// access word ("" for the access word itself). A class not listed needs
// nothing abi/3.0 lacks.
var ruleFeatures = map[string]struct{ path, prefix string }{
	"userns":        {"namespaces/mask", "userns_"},
	"io_uring":      {"io_uring/mask", ""},
	"mqueue posix":  {"ipc/posix_mqueue", ""},
	"mqueue sysv":   {"ipc/sysv_mqueue", ""},
	"network inet":  {"network_v9/af_inet", ""},
	"network inet6": {"network_v9/af_inet", ""},
	// (some kernels list fine-grained inet mediation as network_v8/af_inet)
}

// MissingFor names what f (an abi's or the kernel's features) lacks for a
// rule: its class keyword, its kind where the class has kinds (mqueue's
// type=, "posix" when none is written; network's family when the rule names
// an address or port) and its access words. "" when f has all of it.
func (f Features) MissingFor(class, kind string, access []string) string {
	key := class
	switch class {
	case "mqueue":
		if kind == "" {
			kind = "posix"
		}
		key += " " + kind
	case "network":
		if kind == "" {
			return ""
		}
		key += " " + kind
	}
	need, ok := ruleFeatures[key]
	if !ok {
		return ""
	}
	v, ok := f[need.path]
	if !ok && class == "network" {
		_, ok = f["network_v8/af_inet"]
	}
	if !ok {
		return need.path
	}
	if class == "network" {
		return ""
	}
	have := strings.Fields(v)
	for _, a := range access {
		if w := need.prefix + a; !slices.Contains(have, w) {
			return need.path + ": " + w
		}
	}
	return ""
}
