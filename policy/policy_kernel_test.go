package policy_test

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/aare/dfadump"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// kernelPatterns and kernelPaths are a small namespace where generated
// rules overlap a lot.
var (
	kernelPatterns = []string{
		"/srv/a/*", "/srv/**", "/srv/a/b", "/srv/{a,b}/c", "/srv/*/c", "/srv/a/**", "@{D}/c", "@{D}/**",
		"/srv/[ab]/?", "/srv/a/*.log", "/srv/**/", "/srv/a/", "@{D}/",
	}
	kernelPaths = []string{
		"/srv/a/b", "/srv/a/c", "/srv/b/c", "/srv/a/x.log", "/srv/a/", "/srv/b/", "/srv/c", "/srv/a/b/c",
		"/srv/.log", "/srv/a/.log", "/srv/d/c", "/srv/", "/etc/x",
	}
	kernelPerms      = []string{"r", "w", "a", "rw", "k", "m", "rk", "ix", "rix", "mr", "wk"}
	kernelQualifiers = []string{"", "", "", "owner ", "deny ", "audit ", "deny owner ", "other "}
)

// genKernelProfile writes a profile of 1 to 5 random file rules. Exec
// rules use ix only: two different exec modes on one path do not compile.
func genKernelProfile(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("@{D} = /srv/a/ /srv/b\n")
	b.WriteString("profile t {\n")
	for range 1 + r.IntN(5) {
		q := kernelQualifiers[r.IntN(len(kernelQualifiers))]
		perms := kernelPerms[r.IntN(len(kernelPerms))]
		if strings.HasPrefix(q, "deny") && strings.Contains(perms, "ix") {
			perms = strings.Replace(perms, "ix", "x", 1) // deny takes a bare x
		}
		fmt.Fprintf(&b, "  %s%s %s,\n", q, kernelPatterns[r.IntN(len(kernelPatterns))], perms)
	}
	b.WriteString("}\n")
	return b.String()
}

// TestPolicyCoversKernel compares Policy.Covers on file accesses with the
// decision of the DFA apparmor_parser builds for the same profile (what the
// kernel runs): union of allow rules, deny subtraction, owner and other
// qualifiers, w granting a, variables with apparmor_parser's slash handling.
func TestPolicyCoversKernel(t *testing.T) {
	if _, err := exec.LookPath("apparmor_parser"); err != nil {
		t.Fatalf("the test needs apparmor_parser (make deps): %v", err)
	}
	const profilesToTry = 150
	r := rand.New(rand.NewPCG(11, 20261122))
	srcs := make([]string, profilesToTry)
	for i := range srcs {
		srcs[i] = genKernelProfile(r)
	}
	var mu sync.Mutex
	var errs []string
	checked, allowed := 0, 0
	work := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for src := range work {
				d, err := dfadump.Build("apparmor_parser", src)
				f, perr := parser.Parse("gen.profile", []byte(src))
				var pol *policy.Policy
				if perr == nil {
					pol, perr = policy.NewPolicy(f, "t", nil)
				}
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, fmt.Sprintf("apparmor_parser rejects a generated profile: %v\n%s", err, src))
				case perr != nil:
					errs = append(errs, fmt.Sprintf("aa-flow cannot read a generated profile: %v\n%s", perr, src))
				default:
					for _, path := range kernelPaths {
						perms, _ := d.Run(path)
						for _, owner := range []bool{true, false} {
							for _, letter := range "rwakmx" {
								want := perms.Granted(dfadump.Letter(byte(letter)), owner)
								a := policy.Access{Class: policy.ClassFile, Path: path, Perms: string(letter), Owner: owner}
								got := pol.Covers(a)
								checked++
								if want {
									allowed++
								}
								if got != want && len(errs) < 20 {
									errs = append(errs, fmt.Sprintf("%s %s owner=%v: kernel DFA %v, Covers %v\n%s", path, string(letter), owner, want, got, src))
								}
							}
						}
					}
				}
				mu.Unlock()
			}
		}()
	}
	for _, s := range srcs {
		work <- s
	}
	close(work)
	wg.Wait()
	require.Empty(t, errs)
	require.Greater(t, allowed, checked/20, "the generated profiles must allow a fair share")
	t.Logf("%d profiles, %d questions (%d allowed): Covers agrees with apparmor_parser's DFA on all", profilesToTry, checked, allowed)
}

var (
	linkRules = []string{
		"/srv/a/* l,", "/srv/a/b rl,", "owner /srv/a/* l,", "deny /srv/a/c l,", "link /srv/a/b -> /srv/b/*,",
		"link subset /srv/a/* -> /srv/b/**,", "/srv/b/** r,", "/srv/b/c rw,", "/srv/a/* rw,", "/srv/a/b r,",
		"deny link /srv/a/b -> /srv/b/c,", "/srv/b/* rwk,",
	}
	linkNames   = []string{"/srv/a/b", "/srv/a/c", "/srv/b/x"}
	linkTargets = []string{"/srv/b/c", "/srv/b/x", "/srv/b/d/e", "/srv/a/c", "/etc/passwd"}
)

// kernelLink decides a hard link the way the kernel does with the DFA: the
// link pair (name, NUL, target) must grant l; when it carries the subset
// flag, every permission the name has must also be granted on the target.
func kernelLink(d *dfadump.DFA, name, target string, owner bool) bool {
	pair, _ := d.Run(name + "\x00" + target)
	if !pair.Granted(dfadump.PermLink, owner) {
		return false
	}
	if pair.Allow&^pair.Deny&(dfadump.PermLock|dfadump.PermLock<<dfadump.OtherShift) == 0 {
		return true // no subset flag (0x20 in a link pair's second entry)
	}
	np, _ := d.Run(name)
	tp, _ := d.Run(target)
	for _, bit := range []uint32{dfadump.PermRead, dfadump.PermWrite, dfadump.PermAppend, dfadump.PermExec, dfadump.PermLock, dfadump.PermMmap} {
		if np.Granted(bit, owner) && !tp.Granted(bit, owner) {
			return false
		}
	}
	return true
}

// TestPolicyLinkKernel compares hard-link decisions with the kernel's DFA:
// l in a file rule is `link subset NAME -> /**`, link rules name both ends,
// deny subtracts, the subset test compares the two ends' permissions.
func TestPolicyLinkKernel(t *testing.T) {
	if _, err := exec.LookPath("apparmor_parser"); err != nil {
		t.Fatalf("the test needs apparmor_parser (make deps): %v", err)
	}
	r := rand.New(rand.NewPCG(13, 20261122))
	checked, allowed := 0, 0
	for range 60 {
		var b strings.Builder
		b.WriteString("profile t {\n")
		for range 1 + r.IntN(5) {
			b.WriteString("  " + linkRules[r.IntN(len(linkRules))] + "\n")
		}
		b.WriteString("}\n")
		src := b.String()
		d, _, pol := kernelAndPolicy(t, src)
		for _, name := range linkNames {
			for _, target := range linkTargets {
				for _, owner := range []bool{true, false} {
					want := kernelLink(d, name, target, owner)
					got := pol.Covers(policy.Access{Class: policy.ClassLink, Path: name, Target: target, Owner: owner})
					checked++
					if want {
						allowed++
					}
					require.Equal(t, want, got, "link %s -> %s owner=%v\n%s", name, target, owner, src)
				}
			}
		}
	}
	require.Greater(t, allowed, checked/20)
	t.Logf("%d link questions (%d allowed) agree with apparmor_parser's DFA", checked, allowed)
}

var (
	aliasLines = []string{
		"alias /srv/ -> /mnt/srv/,", "alias /srv/a/ -> /opt/a/,", "alias /srv -> /data,", "alias /mnt/srv/ -> /opt/srv/,",
	}
	aliasRules = []string{
		"/srv/a/b r,", "/srv/a/* rw,", "/srv/** m,", "/s*/a/c r,", "@{D}/x r,", "@{E}/y r,", "deny /srv/a/b w,",
		"owner /srv/b/* r,", "/srv/{a,b}/z r,", "/mnt/srv/a/b w,", "/srv/a/e ix,", "/srvx r,",
		"link /srv/a/b -> /srv/b/c,", "link /etc/l -> /srv/a/*,", "/srv/a/l l,",
	}
	aliasPaths = []string{
		"/srv/a/b", "/mnt/srv/a/b", "/opt/a/b", "/opt/srv/a/b", "/data/a/b", "/srv/a/c", "/mnt/srv/a/c",
		"/mnt/srv/x/y", "/srv/d/x", "/mnt/srv/d/x", "/srv/d/y", "/mnt/srv/d/y", "/mnt/srv/b/q", "/mnt/srv/a/z",
		"/mnt/srv/a/e", "/opt/a/e", "/datax", "/srvx", "/mnt/srv/a/l", "/opt/a/l",
	}
	aliasLinks = [][2]string{
		{"/srv/a/b", "/srv/b/c"}, {"/mnt/srv/a/b", "/mnt/srv/b/c"}, {"/mnt/srv/a/b", "/srv/b/c"}, {"/opt/a/b", "/srv/b/c"},
		{"/etc/l", "/mnt/srv/a/q"}, {"/etc/l", "/opt/a/q"}, {"/data/a/b", "/data/b/c"}, {"/mnt/srv/a/l", "/etc/x"},
	}
)

// TestPolicyAliasKernel compares Covers with apparmor_parser's DFA on
// profiles with alias rules: rules whose path (variables expanded) starts
// with the alias's text are copied with the prefix rewritten, deny rules
// and link targets too; globs, alternations and several-valued variables
// are not rewritten, and aliases do not chain.
func TestPolicyAliasKernel(t *testing.T) {
	if _, err := exec.LookPath("apparmor_parser"); err != nil {
		t.Fatalf("the test needs apparmor_parser (make deps): %v", err)
	}
	r := rand.New(rand.NewPCG(17, 20261122))
	checked, allowed, viaAlias := 0, 0, 0
	for range 60 {
		var b strings.Builder
		b.WriteString("@{D} = /srv/d\n@{E} = /srv/d /etc/d\n")
		// One or two different aliases (apparmor_parser refuses a
		// second alias of the same path).
		first := r.IntN(len(aliasLines))
		b.WriteString(aliasLines[first] + "\n")
		if second := r.IntN(len(aliasLines)); second != first {
			b.WriteString(aliasLines[second] + "\n")
		}
		b.WriteString("profile t {\n")
		for range 2 + r.IntN(5) {
			b.WriteString("  " + aliasRules[r.IntN(len(aliasRules))] + "\n")
		}
		b.WriteString("}\n")
		src := b.String()
		d, f, pol := kernelAndPolicy(t, src)
		noAlias, err := policy.NewPolicy(&profiles.File{Path: f.Path, Items: withoutAliases(f.Items)}, "t", nil)
		require.NoError(t, err)
		for _, path := range aliasPaths {
			perms, _ := d.Run(path)
			for _, owner := range []bool{true, false} {
				for _, letter := range "rwmxl" {
					bit := dfadump.Letter(byte(letter))
					if letter == 'l' {
						bit = dfadump.PermLink
					}
					want := perms.Granted(bit, owner)
					a := policy.Access{Class: policy.ClassFile, Path: path, Perms: string(letter), Owner: owner}
					if letter == 'l' {
						a = policy.Access{Class: policy.ClassLink, Path: path, Owner: owner}
						want = kernelLink(d, path, "/nowhere/x", owner)
						a.Target = "/nowhere/x"
					}
					checked++
					if want {
						allowed++
						if !noAlias.Covers(a) {
							viaAlias++
						}
					}
					require.Equal(t, want, pol.Covers(a), "%s %c owner=%v\n%s", path, letter, owner, src)
				}
			}
		}
		for _, l := range aliasLinks {
			for _, owner := range []bool{true, false} {
				want := kernelLink(d, l[0], l[1], owner)
				checked++
				if want {
					allowed++
				}
				require.Equal(t, want, pol.Covers(policy.Access{Class: policy.ClassLink, Path: l[0], Target: l[1], Owner: owner}), "link %s -> %s owner=%v\n%s", l[0], l[1], owner, src)
			}
		}
	}
	require.Positive(t, viaAlias, "some accesses must be allowed only through an alias")
	t.Logf("%d questions (%d allowed, %d only through an alias) agree with apparmor_parser's DFA", checked, allowed, viaAlias)
}

func withoutAliases(items []profiles.Node) []profiles.Node {
	var out []profiles.Node
	for _, n := range items {
		if _, ok := n.(*profiles.Alias); !ok {
			out = append(out, n)
		}
	}
	return out
}

// kernelAndPolicy compiles src (a profile named t) with apparmor_parser
// into the DFA the kernel would run, and reads it with aa-flow.
func kernelAndPolicy(t *testing.T, src string) (*dfadump.DFA, *profiles.File, *policy.Policy) {
	t.Helper()
	d, err := dfadump.Build("apparmor_parser", src)
	require.NoError(t, err, src)
	f, err := parser.Parse("gen.profile", []byte(src))
	require.NoError(t, err, src)
	pol, err := policy.NewPolicy(f, "t", nil)
	require.NoError(t, err, src)
	return d, f, pol
}
