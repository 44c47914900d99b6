package learn

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// Parser4Env names an apparmor_parser 4.x for the tests that check a rule
// against it too (the host's parser is 3.0 here).
const Parser4Env = "AA_FLOW_PARSER4"

// The 7.3 kernel logs unix sockets bound to a path with addr=/path, which no
// unix rule can name. learn proposes the narrowest rule the parser accepts
// and the kernel honours (addr=none, no peer address), held and explained;
// --all leaves it, naming it takes it, and once it is in the profile the
// coverage the gate uses counts every one of those records as covered.
func TestLearnPathSockets(t *testing.T) {
	for _, file := range []string{"debian-7.3-audit.log", "debian-7.3-kmsg.log"} {
		t.Run(file, func(t *testing.T) {
			ctx := context.Background()
			e := newEnv(t)
			b, err := os.ReadFile(testutil.Corpus(t, "kernel", file))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(e.log, b, 0o644))
			require.NoError(t, os.WriteFile(e.profile, []byte("include <tunables/global>\nprofile aatest flags=(complain) {\n}\n"), 0o644))
			paths := pathSocketRecords(t, b)
			require.NotEmpty(t, paths, "the capture has records of sockets bound to a path")

			res, err := Learn(ctx, "aatest", e.learn)
			require.NoError(t, err)
			var held []*propose.Rule
			for _, r := range res.Proposal.Rules {
				assert.NotContains(t, r.Text, "addr=/", "no rule names a path address: %s", r.Text)
				if r.Held != "" && strings.HasPrefix(r.Text, "unix ") {
					held = append(held, r)
				}
			}
			require.Len(t, held, 1, "one held rule for the stream socket /tmp/aatest/sock")
			h := held[0]
			assert.Equal(t, "unix (accept, bind, connect, getattr, listen, receive, send) type=stream addr=none,", h.Text)
			assert.Contains(t, h.Held, "/tmp/aatest/sock")
			assert.Contains(t, h.Held, "on any stream unix socket bound to a path, with any peer")
			assert.Contains(t, h.Why, `invalid value for addr`)
			assert.Equal(t, 3, h.Severity, "rated as the same access with no address")
			assert.Equal(t, len(paths), h.Evidence.Count, "every path-socket record is its evidence")

			// --all leaves it pending: the records whose access words no
			// other rule grants (bind, listen, accept, connect) stay
			// uncovered.
			d, err := res.Proposal.Decide(propose.Selection{All: true})
			require.NoError(t, err)
			_, err = Apply(ctx, e.apply, res.Target, res.Proposal, d)
			require.NoError(t, err)
			uncovered := uncoveredOps(t, e.profile, paths)
			assert.Subset(t, uncovered, []string{"bind", "listen", "accept", "connect"})
			assert.NotContains(t, uncovered, "getsockname", "getattr is granted by the rule for unnamed sockets, which names no address")

			// Named, it is written, compiles, and covers them.
			tgt, prop, err := pending(e)
			require.NoError(t, err)
			id := ""
			for _, r := range prop.Rules {
				if r.Text == h.Text {
					id = r.ID
				}
			}
			require.NotEmpty(t, id, "the held rule is still pending")
			d, err = prop.Decide(propose.Selection{Accept: []string{id}})
			require.NoError(t, err)
			_, err = Apply(ctx, e.apply, tgt, prop, d)
			require.NoError(t, err)
			compiles(t, e.profile)
			src, err := os.ReadFile(e.profile)
			require.NoError(t, err)
			assert.Contains(t, string(src), h.Text)
			assert.Empty(t, uncoveredOps(t, e.profile, paths))

			t.Run("parser 4", func(t *testing.T) {
				p4 := os.Getenv(Parser4Env)
				if p4 == "" {
					t.Skipf("%s is not set: the rule was compiled by the host's parser only (addr=none is 3.0 syntax, so that compile is the check that matters here)", Parser4Env)
				}
				_, err := (&aaparser.Runner{Path: p4}).CompileFile(ctx, e.profile)
				require.NoError(t, err)
			})
		})
	}
}

// pathSocketRecords are the capture's aatest records of unix sockets
// bound to a path (addr= or peer_addr= a path).
func pathSocketRecords(t *testing.T, b []byte) []*audit.Event {
	t.Helper()
	var out []*audit.Event
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rec, err := audit.Parse(sc.Bytes())
		if err != nil || rec == nil || rec.Event == nil {
			continue
		}
		ev := rec.Event
		if ev.ProfileName() != "aatest" || ev.Family != "unix" || ev.Mode == audit.ModeStatus {
			continue
		}
		if policy.UnixPathAddr(ev.Addr) || policy.UnixPathAddr(ev.PeerAddr) {
			out = append(out, ev)
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// uncoveredOps are the operations of the records the profile file does not
// cover, as the gate judges them.
func uncoveredOps(t *testing.T, profile string, evs []*audit.Event) []string {
	t.Helper()
	src, err := os.ReadFile(profile)
	require.NoError(t, err)
	f, err := parser.Parse("aatest", src)
	require.NoError(t, err)
	c := NewCoverage(f, parser.ForProfileDir(parser.DefaultIncludeDir))
	var out []string
	for _, ev := range evs {
		got, err := c.Event(ev)
		require.NoError(t, err)
		if !got && !slices.Contains(out, ev.Operation) {
			out = append(out, ev.Operation)
		}
	}
	return out
}
