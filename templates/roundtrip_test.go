package templates

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/internal/testutil"
)

var (
	fullCorpus = flag.Bool("corpus", false, "round-trip every parser-simple_tests case even with -short")
)

// featuresFile pins the features the judge compiles for. Without it,
// apparmor_parser on a host with no AppArmor kernel drops signal, ptrace,
// unix, dbus and mount rules from the compiled policy, and a wrong rendering
// of them would go unnoticed.
const featuresFile = aaparser.ABI30Features

// judge returns the apparmor_parser runner the round-trip tests compare
// compiled policy with.
func judge(includeDirs ...string) *aaparser.Runner {
	return &aaparser.Runner{IncludeDirs: includeDirs, FeaturesFile: featuresFile}
}

// compileTimeout bounds one compile: apparmor_parser 3.0.8 loops forever on
// a few inputs (parser-simple_tests regressions/ok_normalize.sd), while the
// vars_stress cases take ~30 s on busy cores.
const compileTimeout = 2 * time.Minute

// errCompileTimeout is a compile that did not finish in compileTimeout.
var errCompileTimeout = errors.New("apparmor_parser did not finish in time")

// policyHash compiles policy text and returns the sha256 of the binary
// policy.
func policyHash(r *aaparser.Runner, name string, src []byte) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
	defer cancel()
	out, err := r.Compile(ctx, name, src)
	if ctx.Err() != nil {
		return "", fmt.Errorf("compile %s: %w", name, errCompileTimeout)
	}
	if err != nil {
		return "", err
	}
	if len(out) == 0 {
		return "", fmt.Errorf("compile %s: empty policy", name)
	}
	sum := sha256.Sum256(out)
	return hex.EncodeToString(sum[:]), nil
}

func sha(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// countComments counts the comments in policy text: a '#' that starts a
// token (at the start of a line, after a blank or punctuation), outside a
// quoted string, and not an #include directive.
func countComments(src []byte) int {
	n := 0
	for _, line := range strings.Split(string(src), "\n") {
		inQuote := false
		for i := 0; i < len(line); i++ {
			c := line[i]
			switch {
			case c == '\\':
				i++
			case c == '"':
				inQuote = !inQuote
			case c == '#' && !inQuote && (i == 0 || line[i-1] <= ' ' || strings.IndexByte("{}(),=", line[i-1]) >= 0):
				if !strings.HasPrefix(line[i:], "#include") {
					n++
				}
				i = len(line)
			}
		}
	}
	return n
}

// formatChecked formats src and checks what needs no compiler: the
// rendering is stable (formatting it again changes nothing) and every
// comment survives.
func formatChecked(name string, src []byte) ([]byte, error) {
	out, err := Format(name, src)
	if err != nil {
		return nil, err
	}
	again, err := Format(name+" (formatted)", out)
	if err != nil {
		return nil, fmt.Errorf("formatted text does not parse: %w", err)
	}
	if !bytes.Equal(out, again) {
		return nil, fmt.Errorf("not idempotent: formatting the output changes it:\n%s", lineDiff(out, again))
	}
	if a, b := countComments(src), countComments(out); a != b {
		return nil, fmt.Errorf("comments: %d in the source, %d after fmt", a, b)
	}
	return out, nil
}

// lineDiff shows the first differing line of two texts.
func lineDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			return fmt.Sprintf("line %d:\n-%s\n+%s", i+1, x, y)
		}
	}
	return "(equal)"
}

// parallel runs fn over n items with a small worker pool.
func parallel(n int, fn func(i int)) {
	workers := runtime.NumCPU()
	if workers > 4 {
		workers = 4
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}

// debianFiles lists the profiles Debian's apparmor, apparmor-profiles and
// apparmor-profiles-extra packages install, and their abstractions.
func debianFiles(t *testing.T) (profs, abstractions []string) {
	t.Helper()
	for _, dir := range []string{"/etc/apparmor.d", "/usr/share/apparmor/extra-profiles"} {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err, "the Debian AppArmor profiles are part of the test contract (make deps)")
		for _, e := range ents {
			if e.Type().IsRegular() && e.Name() != "README" {
				profs = append(profs, filepath.Join(dir, e.Name()))
			}
		}
	}
	err := filepath.WalkDir("/etc/apparmor.d/abstractions", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			abstractions = append(abstractions, p)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(profs), 100, "expected Debian's ~140 profiles")
	require.Greater(t, len(abstractions), 80, "expected Debian's abstractions")
	return profs, abstractions
}

// TestRoundTripDebian: every Debian profile and abstraction parses, fmt
// keeps its comments and is idempotent, and the formatted text compiles to
// the same binary policy as the original.
func TestRoundTripDebian(t *testing.T) {
	profs, abstractions := debianFiles(t)
	r := judge()
	type job struct {
		path     string
		abstract bool
	}
	var jobs []job
	for _, p := range profs {
		jobs = append(jobs, job{path: p})
	}
	for _, p := range abstractions {
		jobs = append(jobs, job{path: p, abstract: true})
	}
	tmp := t.TempDir()
	cache := loadCompileCache(debianCachePath, parserVersion(t)+" tree "+treeHash(t, "/etc/apparmor.d", "/usr/share/apparmor/extra-profiles"))
	errs := make([]error, len(jobs))
	parallel(len(jobs), func(i int) {
		errs[i] = roundTripDebian(r, cache, tmp, i, jobs[i].path, jobs[i].abstract)
	})
	if testutil.Update() {
		require.NoError(t, cache.save())
	}
	failed := 0
	for i, err := range errs {
		if err != nil {
			failed++
			t.Errorf("%s: %v", jobs[i].path, err)
		}
	}
	t.Logf("Debian round trip: %d/%d files identical (%d profiles, %d abstractions)", len(jobs)-failed, len(jobs), len(profs), len(abstractions))
}

func roundTripDebian(r *aaparser.Runner, cache *compileCache, tmp string, i int, path string, abstract bool) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := formatChecked(path, src)
	if err != nil {
		return err
	}
	orig, fmtd := src, out
	if abstract {
		// An abstraction is compiled inside a profile that includes it:
		// the original in place, the formatted copy by absolute path.
		copyPath := filepath.Join(tmp, fmt.Sprintf("abstraction-%d", i))
		if err := os.WriteFile(copyPath, out, 0o644); err != nil {
			return err
		}
		wrap := "#include <tunables/global>\nprofile roundtrip /usr/bin/roundtrip {\n  #include \"%s\"\n}\n"
		orig = []byte(fmt.Sprintf(wrap, path))
		fmtd = []byte(fmt.Sprintf(wrap, copyPath))
	}
	want, _ := cache.original(r, path, orig)
	if want == "FAIL" || want == "TIMEOUT" {
		_, err := policyHash(r, path, orig)
		return fmt.Errorf("the original does not compile: %v", err)
	}
	got, err := policyHash(r, path+" (formatted)", fmtd)
	if err != nil {
		return fmt.Errorf("the formatted text does not compile: %w\n%s", err, out)
	}
	if got != want {
		return fmt.Errorf("compiled policy differs after fmt")
	}
	return nil
}

// compileCache holds the compiled sha256 of original policy texts under
// the installed apparmor_parser, keyed by the text's sha256, so a normal run
// compiles only the formatted side. "FAIL" marks a text the parser rejects,
// "TIMEOUT" one it loops on. The header names the parser (and, for the
// Debian suite, the profile tree): a cache written under another is ignored.
// A missing entry is compiled live; -update rewrites the file.
type compileCache struct {
	path    string
	header  string
	mu      sync.Mutex
	entries map[string]string
}

const (
	simpleCachePath = "testdata/simple_tests_compiled.txt"
	debianCachePath = "testdata/debian_compiled.txt"
)

func parserVersion(t *testing.T) string {
	out, _, err := aaparser.SystemExec(context.Background(), "apparmor_parser", []string{"--version"}, nil)
	require.NoError(t, err, "apparmor_parser --version")
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first) + " -M " + featuresFile
}

func loadCompileCache(path, header string) *compileCache {
	c := &compileCache{path: path, header: header, entries: map[string]string{}}
	f, err := os.Open(path)
	if err != nil {
		return c
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || sc.Text() != "# "+header {
		return c // another parser or tree: every entry is stale
	}
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok {
			c.entries[k] = v
		}
	}
	return c
}

// original returns the cached result for src, compiling it on a miss, and
// whether it came from the cache.
func (c *compileCache) original(r *aaparser.Runner, name string, src []byte) (string, bool) {
	key := sha(src)
	c.mu.Lock()
	want, ok := c.entries[key]
	c.mu.Unlock()
	if ok {
		return want, true
	}
	h, err := policyHash(r, name, src)
	switch {
	case err == nil:
		want = h
	case errors.Is(err, errCompileTimeout):
		want = "TIMEOUT"
	default:
		want = "FAIL"
	}
	c.mu.Lock()
	c.entries[key] = want
	c.mu.Unlock()
	return want, false
}

func (c *compileCache) save() error {
	keys := make([]string, 0, len(c.entries))
	for k := range c.entries {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# %s\n", c.header)
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %s\n", k, c.entries[k])
	}
	return os.WriteFile(c.path, b.Bytes(), 0o644)
}

// treeHash is the sha256 of every file under dirs (names and contents): the
// includes a Debian profile's compiled policy depends on.
func treeHash(t *testing.T, dirs ...string) string {
	h := sha256.New()
	for _, d := range dirs {
		err := filepath.WalkDir(d, func(p string, e os.DirEntry, err error) error {
			if err != nil || !e.Type().IsRegular() {
				return err
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d\n", p, len(b))
			h.Write(b)
			return nil
		})
		require.NoError(t, err)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

const exceptionsPath = "testdata/simple_tests_exceptions.txt"

// loadExceptions reads "CASE<TAB>REASON" lines.
func loadExceptions(t *testing.T) map[string]string {
	ex := map[string]string{}
	b, err := os.ReadFile(exceptionsPath)
	if os.IsNotExist(err) {
		return ex
	}
	require.NoError(t, err)
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "\t")
		require.True(t, ok, "%s:%d: want CASE<TAB>REASON", exceptionsPath, i+1)
		ex[k] = v
	}
	return ex
}

func saveExceptions(ex map[string]string) error {
	keys := make([]string, 0, len(ex))
	for k := range ex {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b bytes.Buffer
	b.WriteString("# parser-simple_tests cases the installed apparmor_parser accepts but fmt cannot\n")
	b.WriteString("# round-trip to identical compiled policy, with the reason. Regenerate with\n")
	b.WriteString("# go test ./templates -run TestRoundTripSimpleTests -corpus -update\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s\t%s\n", k, ex[k])
	}
	return os.WriteFile(exceptionsPath, b.Bytes(), 0o644)
}

// sampleSize is how many parser-simple_tests cases a -short run checks:
// every exception plus a deterministic sample of the rest. A full run takes
// about a minute on 2 busy cores (the originals' compiles are cached).
const sampleSize = 300

// TestRoundTripSimpleTests: for every parser-simple_tests case the
// installed apparmor_parser accepts, fmt parses it and its output compiles
// to identical bytes, except the cases listed, with a reason, in
// testdata/simple_tests_exceptions.txt; the list is exact.
func TestRoundTripSimpleTests(t *testing.T) {
	root := testutil.Corpus(t, "parser-simple_tests")
	var cases []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() && strings.HasSuffix(p, ".sd") {
			rel, _ := filepath.Rel(root, p)
			cases = append(cases, rel)
		}
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(cases), 2000)
	sort.Strings(cases)

	exceptions := loadExceptions(t)
	full := *fullCorpus || testutil.Update() || !testing.Short()
	run := cases
	if !full {
		run = sampleCases(cases, exceptions)
	}
	cache := loadCompileCache(simpleCachePath, parserVersion(t))
	r := judge(root)

	type result struct {
		accepted bool   // the installed parser accepts the original
		failure  string // why the round trip failed, "" when it did not
		timeout  bool   // the installed parser loops on the original
		cached   bool
	}
	results := make([]result, len(run))
	parallel(len(run), func(i int) {
		src, err := os.ReadFile(filepath.Join(root, run[i]))
		if err != nil {
			results[i] = result{accepted: true, failure: err.Error()}
			return
		}
		want, ok := cache.original(r, run[i], src)
		res := result{accepted: want != "FAIL" && want != "TIMEOUT", timeout: want == "TIMEOUT", cached: ok}
		if !res.accepted {
			results[i] = res
			return
		}
		res.failure = simpleRoundTrip(r, run[i], src, want)
		results[i] = res
	})

	accepted, passed, cached, timeouts := 0, 0, 0, 0
	found := map[string]string{}
	for i, res := range results {
		if res.cached {
			cached++
		}
		if res.timeout {
			timeouts++
		}
		if !res.accepted {
			continue
		}
		accepted++
		if res.failure == "" {
			passed++
			continue
		}
		found[run[i]] = res.failure
	}
	t.Logf("parser-simple_tests: %d cases run (%d from the compile cache, %d on which apparmor_parser loops), %d accepted by apparmor_parser, %d round-trip to identical policy (%.1f%%), %d exceptions",
		len(run), cached, timeouts, accepted, passed, 100*float64(passed)/float64(max(accepted, 1)), len(found))

	if testutil.Update() {
		require.NoError(t, cache.save())
		require.NoError(t, saveExceptions(found))
		return
	}
	inRun := map[string]bool{}
	for _, c := range run {
		inRun[c] = true
	}
	for c, why := range found {
		if _, ok := exceptions[c]; !ok {
			t.Errorf("%s: round trip fails and is not listed in %s: %s", c, exceptionsPath, why)
		}
	}
	for c := range exceptions {
		if !inRun[c] {
			if full {
				t.Errorf("%s: listed in %s but no such case", c, exceptionsPath)
			}
			continue
		}
		if _, ok := found[c]; !ok {
			t.Errorf("%s: listed in %s but the round trip works (or the parser rejects the original): remove it", c, exceptionsPath)
		}
	}
}

// simpleRoundTrip returns why a case fails to round-trip, or "".
func simpleRoundTrip(r *aaparser.Runner, name string, src []byte, want string) string {
	out, err := formatChecked(name, src)
	if err != nil {
		return oneLine(err.Error())
	}
	got, err := policyHash(r, name+" (formatted)", out)
	if err != nil {
		return "formatted text does not compile: " + oneLine(err.Error())
	}
	if got != want {
		return "compiled policy differs after fmt"
	}
	return ""
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " | ")
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// sampleCases picks every listed exception and a deterministic sample of
// the other cases (every k-th by name).
func sampleCases(cases []string, exceptions map[string]string) []string {
	step := len(cases) / sampleSize
	if step < 1 {
		step = 1
	}
	var out []string
	for i, c := range cases {
		if _, ok := exceptions[c]; ok || i%step == 0 {
			out = append(out, c)
		}
	}
	return out
}

func TestCountComments(t *testing.T) {
	src := "# top\n#include <x>\nprofile p { # trailing\n  /a#b r, # c\n  \"/x #y\" r,\n  #comment\n}\n"
	assert.Equal(t, 4, countComments([]byte(src)))
}

// TestFormatTunables: Debian's tunables files (variables, aliases) parse,
// fmt keeps their comments and is idempotent. Their compiled policy is
// covered by the profile round trip, which includes them.
func TestFormatTunables(t *testing.T) {
	var files []string
	err := filepath.WalkDir("/etc/apparmor.d/tunables", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, p := range files {
		src, err := os.ReadFile(p)
		require.NoError(t, err)
		_, err = formatChecked(p, src)
		assert.NoError(t, err, p)
	}
}
