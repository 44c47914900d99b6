package propose_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/propose"
)

// multiCase is one libapparmor test_multi case with an aa-logprof profile.
type multiCase struct {
	name     string
	in       []byte
	expected []byte
}

func multiCases(t *testing.T) []multiCase {
	dir := testutil.Corpus(t, "libapparmor-test_multi")
	paths, err := filepath.Glob(filepath.Join(dir, "*.profile"))
	require.NoError(t, err)
	var out []multiCase
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".profile")
		in, err := os.ReadFile(filepath.Join(dir, name+".in"))
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		exp, err := os.ReadFile(p)
		require.NoError(t, err)
		out = append(out, multiCase{name: name, in: in, expected: exp})
	}
	return out
}

func decodeAll(in []byte, source string) []*audit.Event {
	evs, _ := decodeStats(in, source)
	return evs
}

// decodeStats is decodeAll with the decoder's counts.
func decodeStats(in []byte, source string) ([]*audit.Event, audit.Stats) {
	d := audit.NewDecoder()
	var out []*audit.Event
	sc := bufio.NewScanner(bytes.NewReader(in))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		out = append(out, d.Feed(sc.Bytes(), source, n)...)
	}
	return append(out, d.Flush()...), d.Stats()
}

// emptyLike is the expected profile's first line (its header) closed at
// once: the empty profile of that name.
func emptyLike(expected []byte) (string, string, error) {
	f, err := parser.Parse("expected", expected)
	if err != nil {
		return "", "", err
	}
	ps := f.Profiles()
	if len(ps) != 1 {
		return "", "", fmt.Errorf("%d top-level profiles", len(ps))
	}
	header := string(expected[:bytes.IndexByte(expected, '\n')+1])
	return header + "}\n", ps[0].DisplayName(), nil
}

// Learning from a test_multi line into an empty profile gives the policy
// aa-logprof gives, for most cases; every case where it does not is listed
// with the reason in testdata/learn/test_multi_differences.txt.
func TestLearnTestMulti(t *testing.T) {
	cases := multiCases(t)
	require.Greater(t, len(cases), 100)
	r := &aaparser.Runner{FeaturesFile: aaparser.ABI30Features}
	ctx := context.Background()

	type result struct {
		name, status, got string
	}
	results := make([]result, len(cases))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for i, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			res := result{name: c.name}
			defer func() { results[i] = res }()
			want, err := r.Compile(ctx, c.name, c.expected)
			if err != nil {
				res.status = "skip" // the installed parser does not compile aa-logprof's profile
				return
			}
			empty, name, err := emptyLike(c.expected)
			if err != nil {
				res.status = "error: " + err.Error()
				return
			}
			f, err := parser.Parse(c.name, []byte(empty))
			if err != nil {
				res.status = "error: " + err.Error()
				return
			}
			events, stats := decodeStats(c.in, c.name+".in")
			if len(events) == 0 && stats.RefusedTotal > 0 {
				// Only the kernel's records count: a line any program
				// can write (dbus-daemon's own syslog line) is refused.
				res.status = "refused"
				return
			}
			prop, err := propose.Propose(f, name, events, propose.ProposeOptions{})
			if err != nil {
				res.status = "error: " + err.Error()
				return
			}
			// aa-logprof writes literal paths: compare with the literal
			// alternative of every generalisation.
			var lits []string
			for _, r := range prop.Rules {
				if len(r.Literal) > 0 {
					lits = append(lits, r.ID)
				}
			}
			d, err := prop.Decide(propose.Selection{All: true, Literal: lits})
			if err != nil {
				res.status = "error: " + err.Error()
				return
			}
			out, err := parser.InsertRules([]byte(empty), f, prop.Apply(d), "")
			if err != nil {
				res.status = "error: " + err.Error()
				return
			}
			res.got = string(out)
			got, err := r.Compile(ctx, c.name, out)
			switch {
			case err != nil:
				res.status = "differs"
			case bytes.Equal(got, want):
				res.status = "same"
			default:
				res.status = "differs"
			}
		}()
	}
	wg.Wait()

	same, compared, refused := 0, 0, 0
	var differ []string
	for _, res := range results {
		switch res.status {
		case "skip":
			continue
		case "same":
			same++
		case "refused":
			refused++
			differ = append(differ, res.name)
		default:
			differ = append(differ, res.name)
			if testing.Verbose() {
				t.Logf("%s: %s\n%s", res.name, res.status, res.got)
			}
		}
		compared++
	}
	sort.Strings(differ)
	t.Logf("test_multi: %d of %d compiled cases learn to aa-logprof's policy: %d of the %d whose records are the kernel's, and %d refused as not the kernel's by design",
		same, compared, same, compared-refused, refused)
	// The rest differ for the reasons listed: each a rule narrower than
	// aa-logprof's, or a denial shown for review that aa-logprof drops.
	assert.GreaterOrEqual(t, same, 101)

	// The differences file lists exactly the differing cases, each with a
	// reason after the name.
	path := filepath.Join("testdata", "learn", "test_multi_differences.txt")
	listed := readDifferences(t, path)
	if testutil.Update() {
		var b strings.Builder
		b.WriteString("# test_multi cases where the learned profile's policy differs from aa-logprof's, and why.\n")
		b.WriteString("# Format: CASE<TAB>reason. Kept exact by TestLearnTestMulti.\n")
		for _, n := range differ {
			reason := listed[n]
			if reason == "" {
				reason = "TODO: reason"
			}
			fmt.Fprintf(&b, "%s\t%s\n", n, reason)
		}
		require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
		listed = readDifferences(t, path)
	}
	var names []string
	for n, reason := range listed {
		names = append(names, n)
		assert.NotContains(t, reason, "TODO", "%s: give the reason", n)
	}
	sort.Strings(names)
	assert.Equal(t, differ, names, "%s must list exactly the differing cases (go test -run TestLearnTestMulti -update)", path)
}

func readDifferences(t *testing.T, path string) map[string]string {
	out := map[string]string{}
	data, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return out
	}
	require.NoError(t, err)
	for i, l := range strings.Split(string(data), "\n") {
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, reason, ok := strings.Cut(l, "\t")
		require.True(t, ok, "%s:%d: want CASE<TAB>reason", path, i+1)
		out[name] = reason
	}
	return out
}
