package propose

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A program a complain-mode profile runs without an exec rule runs under a
// profile the kernel makes for it, "NAME//null-/path/of/program". Its
// records go where the program's exec rule will run it (Route: NAME for
// ix, the child profile for cx), but they are not the whole of what the
// program does: the null- profile logs the program's file accesses and
// none of its network use. Seen on Debian 13's kernel (6.12): webd, started
// in a container by /bin/sh without an exec rule, created, bound and
// accepted inet and inet6 sockets and the kernel logged only its file
// accesses (testdata/corpus/kernel/docker). A learner that folds those
// records and calls the result complete misses the rest, which enforce
// mode then denies. So every program seen under a null- profile is named
// in the proposal (Proposal.LearningChildren), and its records are never
// evidence that the profile covers the workload (learn --check, the
// enforce gate).

// LearningChild reports whether label, or one part of a stacked label, is
// complain mode's null- profile of a program name (or one of its hats or
// children) ran without an exec rule, and which program: for
// "web//null-/usr/bin/curl" it is "/usr/bin/curl"; for a null- child of a
// null- child, the innermost program.
func LearningChild(label, name string) (program string, ok bool) {
	const null = "//null-"
	for part := range strings.SplitSeq(label, "//&") {
		if _, own := (Router{Name: name}).routeOne(part); !own {
			continue
		}
		i := strings.LastIndex(part, null)
		if i < 0 {
			continue
		}
		program, _, _ = strings.Cut(part[i+len(null):], "//")
		if strings.HasPrefix(program, "/") {
			return program, true
		}
	}
	return "", false
}

// LearningChildNote says what a program seen under a null- profile means
// for the evidence and what to do, for learn's summary and the gate.
func LearningChildNote(program, name string) string {
	return fmt.Sprintf("%s ran under complain mode's %s//null-%s profile (it had no exec rule when it started), which logs its file accesses but not its network use: "+
		"the records do not show all it does. Once its exec rule is loaded, restart it so that it runs under %s (or the child profile its cx rule names), run the workload again and learn again",
		program, name, program, name)
}

// noteLearningChild remembers, once per program, that a record came from a
// null- profile.
func (p *Proposer) noteLearningChild(label string) {
	prog, ok := LearningChild(label, p.name)
	if !ok || p.learning[prog] {
		return
	}
	if p.learning == nil {
		p.learning = map[string]bool{}
	}
	p.learning[strings.Clone(prog)] = true
}

// learningChildren are the programs noted, sorted.
func (p *Proposer) learningChildren() []string {
	return slices.Sorted(maps.Keys(p.learning))
}
