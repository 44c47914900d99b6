package aare

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/aare/dfadump"
)

// compileWithParser builds the DFA apparmor_parser makes for a one-rule
// profile. The glob is quoted as is (not Go-quoted): backslash escapes read
// the same inside quotes; generated globs have no '"' or spaces.
func compileWithParser(glob string) (*dfadump.DFA, error) {
	return dfadump.Build("apparmor_parser", "profile t {\n  \""+glob+"\" r,\n}\n")
}

// TestParserDFA checks Compile against the automaton apparmor_parser itself
// builds (what the kernel runs), on generated globs and the edge cases where
// python3-apparmor differs: every verdict must agree.
func TestParserDFA(t *testing.T) {
	if _, err := exec.LookPath("apparmor_parser"); err != nil {
		t.Fatalf("the test needs apparmor_parser (make deps): %v", err)
	}
	const globs = 120
	r := rand.New(rand.NewPCG(7, 20261122))
	type job struct {
		glob  string
		paths []string
	}
	var jobs []job
	for _, e := range edgePairs {
		if strings.ContainsAny(e[0], "|$^") {
			continue // fine in a glob, but the lexer reads them unquoted differently
		}
		jobs = append(jobs, job{glob: e[0], paths: []string{e[1], e[1] + "x", e[1] + "/"}})
	}
	// shapes from Debian's abstractions, after variable expansion
	for _, g := range [][]string{
		{"/{usr/,}lib{,32,64}/**.so*", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/libc.so", "/usr/lib64/.so", "/usr/lib/"},
		{"/proc/{[1-9],[1-9][0-9],[1-9][0-9][0-9]}/{maps,auxv,status}", "/proc/1/maps", "/proc/42/status", "/proc/0/maps", "/proc/1234/maps", "/proc/self/maps"},
		{"/usr/share/**/locale/**", "/usr/share/locale/x", "/usr/share/a/locale/x", "/usr/share/a/b/locale/x/y"},
		{"/etc/ld.so.conf.d/{,*.conf}", "/etc/ld.so.conf.d/", "/etc/ld.so.conf.d/a.conf", "/etc/ld.so.conf.d/.conf", "/etc/ld.so.conf.d/a"},
		{"/{home/*,root}/.ssh/**", "/home/al/.ssh/id", "/root/.ssh/id", "/home/.ssh/id", "/root/.ssh/"},
		{"/**/", "/", "/a/", "/a/b/", "/a"},
		{"/", "/", "/a"},
		{"/a//b", "/a/b", "/a//b"},
		{`/a/\*\{b\}`, "/a/*{b}", "/a/x{b}"},
		{`/a/\x41\101`, "/a/AA", "/a/x41"},
		{`/a/b\\`, `/a/b\`, "/a/b"},
		{"/dev/*mem", "/dev/mem", "/dev/kmem"},
	} {
		jobs = append(jobs, job{glob: g[0], paths: g[1:]})
	}
	for range globs {
		g := genGlob(r)
		var paths []string
		for range 12 {
			paths = append(paths, genPath(r, g))
		}
		jobs = append(jobs, job{glob: g, paths: paths})
	}
	var mu sync.Mutex
	var errs []string
	pairs, matches := 0, 0
	work := make(chan job)
	var wg sync.WaitGroup
	for range 2 { // the machine is shared: two parser processes at a time
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				d, err := compileWithParser(j.glob)
				ours, cerr := Compile(j.glob)
				mu.Lock()
				switch {
				case err != nil && cerr == nil:
					errs = append(errs, fmt.Sprintf("apparmor_parser rejects %q, Compile accepts it: %v", j.glob, err))
				case err == nil && cerr != nil:
					errs = append(errs, fmt.Sprintf("Compile rejects %q, apparmor_parser accepts it: %v", j.glob, cerr))
				case err == nil:
					for _, p := range j.paths {
						pairs++
						_, want := d.Run(p)
						if want {
							matches++
						}
						if got := ours.Match(p); got != want {
							errs = append(errs, fmt.Sprintf("%q vs %q: apparmor_parser's DFA says %v, Compile %v", j.glob, p, want, got))
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	require.Empty(t, errs)
	require.Greater(t, matches, pairs/10, "the generated pairs must exercise matches")
	t.Logf("%d globs, %d pairs (%d matching): all agree with apparmor_parser's DFA", len(jobs), pairs, matches)
}
