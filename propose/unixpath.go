package propose

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
)

// pathSockets handles a unix access on a socket bound to a filesystem path
// (its own address or its peer's, addr=/run/app.sock as kernels with
// fine-grained unix mediation log it): a unix rule cannot name such an
// address (apparmor_parser 3.0 and 4.1 refuse addr=/path: "unix rule:
// invalid value for addr"), so a is rewritten to the narrowest rule the
// parser accepts and the kernel honours, addr=none and no peer address
// (policy.UnixPathAddr says why that rule applies), and the paths are
// returned for the explanation. Other accesses are left alone (nil).
func pathSockets(a *policy.Access) []string {
	if a.Class != policy.ClassUnix {
		return nil
	}
	var paths []string
	if policy.UnixPathAddr(a.Path) {
		paths = append(paths, a.Path)
	}
	if policy.UnixPathAddr(a.PeerAddr) {
		paths = append(paths, a.PeerAddr)
		a.PeerAddr = ""
	}
	if paths == nil {
		return nil
	}
	if a.Path == "" || policy.UnixPathAddr(a.Path) {
		a.Path = policy.UnixAddrNone
	}
	return paths
}

// maxSocketPaths bounds how many socket paths an aggregate lists.
const maxSocketPaths = 20

// addSockets remembers the socket paths of one record (copied).
func (g *agg) addSockets(paths []string) {
	for _, s := range paths {
		if len(g.sockets) >= maxSocketPaths || slices.Contains(g.sockets, s) {
			continue
		}
		g.sockets = append(g.sockets, strings.Clone(s))
	}
}

// holdPathSocket makes the rule of an aggregate of path-socket records a
// held widening: it says what the rule grants beyond its records and why
// no narrower rule exists, and rates it by what it can reach (the same
// access with no address at all).
func (p *Proposer) holdPathSocket(c *candidate, g *agg) {
	r, ok := c.node.(*profiles.ClassRule)
	if !ok {
		return
	}
	reach := &profiles.ClassRule{Class: r.Class, Access: r.Access}
	for _, cd := range r.Conds {
		if cd.Key != "addr" {
			reach.Conds = append(reach.Conds, cd)
		}
	}
	c.sev = max(c.sev, p.rate(reach))
	typ, local := "unix", "on unnamed ones (addr=none)"
	for _, cd := range r.Conds {
		switch {
		case cd.Key == "type" && len(cd.Values) == 1:
			typ = cd.Values[0] + " unix"
		case cd.Key == "addr" && len(cd.Values) == 1 && cd.Values[0] != policy.UnixAddrNone:
			local = "on its own socket " + cd.Values[0]
		}
	}
	access := "its access"
	if len(r.Access) > 0 {
		access = "(" + strings.Join(r.Access, ", ") + ")"
	}
	c.why = fmt.Sprintf("the kernel logged %s on a %s socket bound to a path (%s), which no unix rule can name: "+
		"apparmor_parser refuses addr=/path (\"unix rule: invalid value for addr\")", access, typ, strings.Join(g.sockets, ", "))
	c.held = fmt.Sprintf("rated %d: widened, because a unix rule cannot name the socket path %s: this rule allows %s on any %s socket "+
		"bound to a path, with any peer, and %s: the kernel does not match a path socket's address against a "+
		"unix rule (Debian's 7.3 with parser 4.1 was seen to match only its type and access words, so rate it as a rule with no address); "+
		"accept it by name (review y, or apply --accept ID), or leave it and the records stay uncovered",
		c.sev, strings.Join(g.sockets, ", "), access, typ, local)
}
