package aare

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
)

const (
	oraclePython = "/usr/bin/python3"
	oraclePairs  = 4000
	disagreeFile = "testdata/oracle_disagreements.txt"
)

// The oracle reads "glob\tpath" lines and prints 1, 0 or E (python raised)
// for each, using
// python3-apparmor's AARE.match (an independent implementation).
const oracleScript = `
import sys
from apparmor.aare import AARE
out = []
for line in sys.stdin:
    glob, path = line.rstrip("\n").split("\t")
    try:
        out.append("1" if AARE(glob, False).match(path) else "0")
    except Exception:
        out.append("E")
sys.stdout.write("\n".join(out) + "\n")
`

// genGlob builds a random glob from constructs both implementations read
// the same way (see the header of testdata/oracle_disagreements.txt for the
// ones left out: escapes, '?' inside classes, '^', '|', '$', "***").
func genGlob(r *rand.Rand) string {
	var b strings.Builder
	n := 1 + r.IntN(4)
	for range n {
		b.WriteByte('/')
		parts := 1 + r.IntN(3)
		lastStar := false
		for range parts {
			k := r.IntN(14)
			if lastStar && k < 3 {
				k = 5 // never "***": see the header
			}
			lastStar = false
			switch k {
			case 0, 1:
				b.WriteString("*")
				lastStar = true
			case 2:
				b.WriteString("**")
				lastStar = true
			case 3:
				b.WriteString("?")
			case 4:
				b.WriteString([]string{"[ab]", "[a-c]", "[^a]", "[^/]", "[.b]"}[r.IntN(5)])
			case 5:
				b.WriteString([]string{"{a,b}", "{a,{b,c}}", "{,a}", "{a,b/c}", "{ab,a/b}", "{a/,b}", "{.,c}"}[r.IntN(7)])
			default:
				b.WriteString([]string{"a", "b", "c", "ab", ".a", "a.b", "-", "bc"}[r.IntN(8)])
			}
		}
	}
	if r.IntN(4) == 0 {
		b.WriteByte('/')
	}
	return b.String()
}

// genPath builds a path likely to be near the glob: its literal bytes with
// glob operators replaced by random short runs, or a random path.
func genPath(r *rand.Rand, glob string) string {
	if r.IntN(5) == 0 {
		var b strings.Builder
		for range 1 + r.IntN(4) {
			b.WriteByte('/')
			b.WriteString([]string{"a", "b", "c", "ab", ".a", "a.b", "-", "bc", "ca", ""}[r.IntN(10)])
		}
		return cleanPath(b.String())
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(glob); i++ {
		c := glob[i]
		switch c {
		case '*':
			if i+1 < len(glob) && glob[i+1] == '*' {
				i++
				b.WriteString([]string{"", "a", "a/b", "bc/", "/c", "a/b/c"}[r.IntN(6)])
			} else {
				b.WriteString([]string{"", "a", "bc", ".x"}[r.IntN(4)])
			}
		case '?':
			b.WriteString([]string{"a", "x", "", "ab"}[r.IntN(4)])
		case '[':
			j := strings.IndexByte(glob[i:], ']')
			b.WriteString([]string{"a", "b", "c", "/", "."}[r.IntN(5)])
			i += j
		case '{':
			depth++
			if r.IntN(2) == 0 {
				// skip to the next ',' or '}' at this depth: take a branch
				continue
			}
		case ',', '}':
			// either end the chosen branch or drop the rest
			if c == '}' {
				depth--
			}
			if r.IntN(3) == 0 {
				b.WriteByte(',')
			}
		default:
			b.WriteByte(c)
		}
	}
	p := b.String()
	if r.IntN(6) == 0 && len(p) > 1 {
		p = p[:len(p)-1]
	}
	return cleanPath(p)
}

// cleanPath makes a path the kernel could report: absolute, no "//".
func cleanPath(p string) string {
	for strings.Contains(p, "//") {
		p = strings.ReplaceAll(p, "//", "/")
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return p
}

type verdict struct {
	glob, path string
	ours       bool
	py         string // "1", "0", or "E" when python3-apparmor raised
}

// edgePairs are hand-picked pairs on the constructs the generator leaves
// out, each showing one known difference (the reasons are in the
// disagreements file) or one agreement worth keeping.
var edgePairs = [][2]string{
	{"/x/{a/,b}*", "/x/a/"},
	{"/x/{a/,b}*", "/x/a/c"},
	{"/x/**", "/x//b"},
	{"/x/***", "/x/b/"},
	{"/x/[^a]*", "/x//"},
	{`/x/\*`, "/x/*"},
	{`/x/\x41`, "/x/A"},
	{"/x/a^b", "/x/a^b"},
	{"/x/a|b", "/x/a"},
	{"/x/a$", "/x/a$b"},
	{"/x//y", "/x/y"},
	{"/x/[!a]", "/x/!"},
	{"/x/*", "/x/.hidden"},
	{"/x/a.b", "/x/axb"},
	{"/x/a+", "/x/aa"},
	{"/*bc", "/bc"},
	{"/x/**ab", "/x/ab"},
	{"/x/***", "/x/b"},
	{"/x/*\\/", "/x//"},
}

func (v verdict) key() string { return v.glob + "\t" + v.path }

func TestOracle(t *testing.T) {
	if _, err := os.Stat(oraclePython); err != nil {
		t.Fatalf("the oracle needs %s with python3-apparmor (make deps): %v", oraclePython, err)
	}
	r := rand.New(rand.NewPCG(20261122, 4))
	var pairs []verdict
	var in bytes.Buffer
	seen := map[string]bool{}
	for len(pairs) < oraclePairs {
		glob := genGlob(r)
		g, err := Compile(glob)
		require.NoError(t, err, glob)
		for range 4 {
			path := genPath(r, glob)
			v := verdict{glob: glob, path: path, ours: g.Match(path)}
			if seen[v.key()] {
				continue
			}
			seen[v.key()] = true
			pairs = append(pairs, v)
			fmt.Fprintf(&in, "%s\t%s\n", glob, path)
		}
	}
	for _, e := range edgePairs {
		g, err := Compile(e[0])
		require.NoError(t, err, e[0])
		pairs = append(pairs, verdict{glob: e[0], path: e[1], ours: g.Match(e[1])})
		fmt.Fprintf(&in, "%s\t%s\n", e[0], e[1])
	}
	cmd := exec.Command(oraclePython, "-c", oracleScript)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "python3-apparmor oracle: %s", stderr.String())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(pairs))
	matches := 0
	var got []verdict
	for i, l := range lines {
		pairs[i].py = l
		if pairs[i].ours {
			matches++
		}
		if pairs[i].py != b01(pairs[i].ours) {
			got = append(got, pairs[i])
		}
	}
	// the generator must exercise both outcomes
	require.Greater(t, matches, len(pairs)/5, "too few matching pairs to be a useful test")
	require.Less(t, matches, len(pairs)*4/5, "too few non-matching pairs to be a useful test")

	known, reasons, err := readDisagreements(disagreeFile)
	if err != nil && !testutil.Update() {
		t.Fatal(err)
	}
	if testutil.Update() {
		require.NoError(t, writeDisagreements(disagreeFile, got, known, reasons))
		return
	}
	gotKeys := map[string]verdict{}
	for _, v := range got {
		gotKeys[v.key()] = v
	}
	for k, v := range gotKeys {
		kv, ok := known[k]
		if !ok {
			t.Errorf("new disagreement: %q vs %q: aa-flow %v, python %s (explain it in %s, -update)", v.glob, v.path, v.ours, v.py, disagreeFile)
			continue
		}
		if kv.ours != v.ours || kv.py != v.py {
			t.Errorf("%q vs %q: listed with aa-flow=%v, now %v", v.glob, v.path, kv.ours, v.ours)
		}
	}
	for k, v := range known {
		if _, ok := gotKeys[k]; !ok {
			t.Errorf("listed disagreement no longer occurs: %q vs %q", v.glob, v.path)
		}
	}
	if !t.Failed() {
		t.Logf("%d pairs, %d matching, %d disagreements, all explained", len(pairs), matches, len(got))
	}
}

// The file: '#' comment lines, "@ID reason" lines defining reasons, and
// "ID<TAB>glob<TAB>path<TAB>aa-flow=0|1<TAB>python=0|1" entries.
func readDisagreements(name string) (map[string]verdict, map[string]string, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	known := map[string]verdict{}
	why := map[string]string{} // entry key -> reason ID
	reasons := map[string]string{}
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		l := sc.Text()
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "@"):
			id, text, _ := strings.Cut(l[1:], " ")
			reasons[id] = text
		default:
			f := strings.Split(l, "\t")
			if len(f) != 5 {
				return nil, nil, fmt.Errorf("%s:%d: want ID, glob, path, aa-flow=, python=", name, line)
			}
			if _, ok := reasons[f[0]]; !ok {
				return nil, nil, fmt.Errorf("%s:%d: reason %q is not defined (an @%s line)", name, line, f[0], f[0])
			}
			v := verdict{glob: f[1], path: f[2], ours: f[3] == "aa-flow=1", py: strings.TrimPrefix(f[4], "python=")}
			known[v.key()] = v
			why[v.key()] = f[0]
		}
	}
	return known, why, sc.Err()
}

// writeDisagreements rewrites the entries, keeping the reason of each one
// already listed; new ones get reason TODO, which readDisagreements rejects
// until a person explains them.
func writeDisagreements(name string, got []verdict, _ map[string]verdict, why map[string]string) error {
	old, err := os.ReadFile(name)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	var head strings.Builder
	for _, l := range strings.Split(string(old), "\n") {
		if strings.HasPrefix(l, "#") || strings.HasPrefix(l, "@") {
			head.WriteString(l + "\n")
		}
	}
	sort.Slice(got, func(i, j int) bool { return got[i].key() < got[j].key() })
	var b strings.Builder
	b.WriteString(head.String())
	b.WriteString("\n")
	for _, v := range got {
		id := why[v.key()]
		if id == "" {
			id = "TODO"
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\taa-flow=%s\tpython=%s\n", id, v.glob, v.path, b01(v.ours), v.py)
	}
	return os.WriteFile(name, []byte(b.String()), 0o644)
}

func b01(x bool) string {
	if x {
		return "1"
	}
	return "0"
}
