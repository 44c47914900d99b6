package parser

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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

const (
	oracleFile     = "testdata/simple_tests_oracle.txt"
	exceptionsFile = "testdata/simple_tests_exceptions.txt"
	compileTimeout = 3 * time.Minute // vars_stress_03.sd needs 8 s of CPU, more on a busy machine
)

// simpleCase is one profile of AppArmor's simple_tests suite.
type simpleCase struct {
	rel  string // path relative to the suite
	src  []byte
	sum  string // sha256 of src, hex
	pass bool   // the installed apparmor_parser accepts it
	// verdict is PASS, FAIL, or TIMEOUT when the parser did not finish.
	verdict string
}

// parserVersion is the first line of `apparmor_parser --version`.
func parserVersion(t *testing.T) string {
	out, err := exec.Command("apparmor_parser", "--version").Output()
	require.NoError(t, err, "apparmor_parser is the oracle of this test (make deps)")
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// loadOracle reads the cached verdicts of the installed parser: lines
// "SHA256 PASS|FAIL|TIMEOUT PATH" after a "# VERSION" header. A cache written by
// another parser version is ignored.
func loadOracle(t *testing.T, version string) map[string]string {
	verdicts := map[string]string{}
	f, err := os.Open(oracleFile)
	if errors.Is(err, fs.ErrNotExist) {
		return verdicts
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || sc.Text() != "# "+version {
		t.Logf("%s was written by another apparmor_parser; recomputing (run with -update to refresh it)", oracleFile)
		return verdicts
	}
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		require.Len(t, fields, 3, "%s: bad line %q", oracleFile, sc.Text())
		verdicts[fields[0]] = fields[1]
	}
	require.NoError(t, sc.Err())
	return verdicts
}

func writeOracle(t *testing.T, version string, cases []*simpleCase) {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", version)
	for _, c := range cases {
		fmt.Fprintf(&b, "%s %s %s\n", c.sum, c.verdict, c.rel)
	}
	require.NoError(t, os.WriteFile(oracleFile, []byte(b.String()), 0o644))
}

// loadExceptions reads "PATH: reason" lines; '#' starts a comment line.
func loadExceptions(t *testing.T) map[string]string {
	data, err := os.ReadFile(exceptionsFile)
	require.NoError(t, err)
	out := map[string]string{}
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		path, reason, ok := strings.Cut(line, ":")
		require.True(t, ok && strings.TrimSpace(reason) != "", "%s:%d: want \"PATH: reason\"", exceptionsFile, i+1)
		out[strings.TrimSpace(path)] = strings.TrimSpace(reason)
	}
	return out
}

// simpleCases reads the suite's profiles (*.sd) and gets the installed
// parser's verdict on each, from the cache or by compiling it.
func simpleCases(t *testing.T) []*simpleCase {
	dir := testutil.Corpus(t, "parser-simple_tests")
	var cases []*simpleCase
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sd") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		sum := sha256.Sum256(src)
		cases = append(cases, &simpleCase{rel: rel, src: src, sum: hex.EncodeToString(sum[:])})
		return nil
	})
	require.NoError(t, err)
	require.Greater(t, len(cases), 2000)
	sort.Slice(cases, func(i, j int) bool { return cases[i].rel < cases[j].rel })

	version := parserVersion(t)
	oracle := loadOracle(t, version)
	var missing []*simpleCase
	for _, c := range cases {
		if v, ok := oracle[c.sum]; ok && !testutil.Update() {
			c.verdict, c.pass = v, v == "PASS"
		} else {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		t.Logf("compiling %d cases with %s", len(missing), version)
		runner := &aaparser.Runner{IncludeDirs: []string{dir}} // SystemExec kills the parser's whole process group on timeout
		work := make(chan *simpleCase)
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range work {
					// 3.0.8 loops forever on regressions/ok_normalize.sd
					// (an expr normalization bug fixed later): a case it
					// cannot compile in time is one it does not accept.
					ctx, cancel := context.WithTimeout(context.Background(), compileTimeout)
					_, err := runner.CompileFile(ctx, filepath.Join(dir, c.rel))
					switch {
					case err == nil:
						c.verdict, c.pass = "PASS", true
					case ctx.Err() != nil:
						c.verdict = "TIMEOUT"
					default:
						c.verdict = "FAIL"
					}
					cancel()
				}
			}()
		}
		for _, c := range missing {
			work <- c
		}
		close(work)
		wg.Wait()
		if testutil.Update() {
			writeOracle(t, version, cases)
		} else {
			t.Logf("%s is stale: run go test ./parser -run TestSimpleTests -update", oracleFile)
		}
	}
	return cases
}

// TestSimpleTests: every profile of AppArmor's simple_tests that the
// installed apparmor_parser accepts parses, except the listed exceptions,
// and the list of exceptions is exact.
func TestSimpleTests(t *testing.T) {
	cases := simpleCases(t)
	exceptions := loadExceptions(t)
	seen := map[string]bool{}
	var accepted, rejectedBad, bad int
	for _, c := range cases {
		f, err := Parse(c.rel, c.src)
		if err != nil {
			var perr *Error
			require.True(t, errors.As(err, &perr), "%s: error without a position: %v", c.rel, err)
			assert.Equal(t, c.rel, perr.Pos.File)
			assert.Positive(t, perr.Pos.Line, "%s: %v", c.rel, err)
			assert.Positive(t, perr.Pos.Col, "%s: %v", c.rel, err)
		} else {
			require.NotNil(t, f)
		}
		if !c.pass {
			bad++
			if err != nil {
				rejectedBad++
			}
			assert.NotContains(t, exceptions, c.rel, "%s is listed as an exception but apparmor_parser rejects it", c.rel)
			continue
		}
		accepted++
		if reason, ok := exceptions[c.rel]; ok {
			seen[c.rel] = true
			assert.Error(t, err, "%s parses now: remove it from %s (%s)", c.rel, exceptionsFile, reason)
			continue
		}
		assert.NoError(t, err, "apparmor_parser accepts %s", c.rel)
	}
	for rel := range exceptions {
		assert.True(t, seen[rel], "%s lists %s, which is not a case apparmor_parser accepts", exceptionsFile, rel)
	}
	t.Logf("%d cases: apparmor_parser accepts %d (we parse all but %d listed exceptions); of the %d it rejects we reject %d",
		len(cases), accepted, len(exceptions), bad, rejectedBad)
}
