// Package dfadump reads the file-rule DFA that apparmor_parser builds for a
// profile, from its `-D dfa-states` debug dump, and runs it on paths. The
// kernel executes this very automaton, so tests use it as the ground truth
// for glob matching and for a profile's file permissions.
//
// The dump format (apparmor_parser 3.0): a header listing the accepting
// states with their permission masks, "{N} (0x ALLOW/DENY/AUDIT/QUIET)",
// then one block per state, "{N} perms: ...", with a line per transition:
// "C 0xHH -> {M}" for one byte, and "[CLASS] -> {M}" for the bytes no
// explicit line names ("[]" is all of them, "[^\x0/]" all but NUL and '/').
package dfadump

import (
	"bufio"
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Perms are the masks of an accepting state. The low 14 bits are the
// owner's permissions, the next 14 everyone else's (see the Perm* bits).
type Perms struct {
	Allow, Deny, Audit, Quiet uint32
}

// File permission bits within each 14-bit half.
const (
	PermExec   = 0x01
	PermWrite  = 0x02
	PermRead   = 0x04
	PermAppend = 0x08
	PermLink   = 0x10
	PermLock   = 0x20
	PermMmap   = 0x40
)

// OtherShift moves an owner bit to the "other" half.
const OtherShift = 14

// Letter returns the permission bit of a file permission letter (r w a x l
// k m), 0 for anything else.
func Letter(c byte) uint32 {
	switch c {
	case 'r':
		return PermRead
	case 'w':
		return PermWrite
	case 'a':
		return PermAppend
	case 'x':
		return PermExec
	case 'l':
		return PermLink
	case 'k':
		return PermLock
	case 'm':
		return PermMmap
	}
	return 0
}

// Granted reports whether the state's masks allow the permission bit for
// an owner (owner true) or for someone else.
func (p Perms) Granted(bit uint32, owner bool) bool {
	if !owner {
		bit <<= OtherShift
	}
	return p.Allow&^p.Deny&bit != 0
}

// DFA is a parsed dump.
type DFA struct {
	Start  int
	Accept map[int]Perms
	next   map[int]*[256]int // -1: no transition
}

var (
	acceptLine = regexp.MustCompile(`^\{(\d+)\} \(0x ([0-9a-f]+)/([0-9a-f]+)/([0-9a-f]+)/([0-9a-f]+)\)`)
	stateLine  = regexp.MustCompile(`^\{(\d+)\} perms: `)
	byteLine   = regexp.MustCompile(`^\s+(?:.+ )?0x([0-9a-f]+) -> \{(\d+)\}`)
	classLine  = regexp.MustCompile(`^\s+\[(.*)\] -> \{(\d+)\}`)
)

// Parse reads a -D dfa-states dump.
func Parse(out string) (*DFA, error) {
	d := &DFA{Start: 1, Accept: map[int]Perms{}, next: map[int]*[256]int{}}
	var cur *[256]int
	var explicit [256]bool
	header := true
	sc := bufio.NewScanner(strings.NewReader(out))
	for line := 1; sc.Scan(); line++ {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "Cache read/write disabled"):
		case l == "":
			header = false
		case header:
			m := acceptLine.FindStringSubmatch(l)
			switch {
			case m != nil:
				n, _ := strconv.Atoi(m[1])
				var v [4]uint64
				for i := range v {
					v[i], _ = strconv.ParseUint(m[i+2], 16, 32)
				}
				d.Accept[n] = Perms{uint32(v[0]), uint32(v[1]), uint32(v[2]), uint32(v[3])}
			case strings.Contains(l, "<=="):
			default:
				return nil, fmt.Errorf("dump line %d: cannot read header line %q", line, l)
			}
		case stateLine.MatchString(l):
			n, _ := strconv.Atoi(stateLine.FindStringSubmatch(l)[1])
			cur = new([256]int)
			for i := range cur {
				cur[i] = -1
			}
			explicit = [256]bool{}
			d.next[n] = cur
		case cur != nil && classLine.MatchString(l):
			m := classLine.FindStringSubmatch(l)
			to, _ := strconv.Atoi(m[2])
			set, err := parseClass(m[1])
			if err != nil {
				return nil, fmt.Errorf("dump line %d %q: %w", line, l, err)
			}
			for c := range 256 {
				if !explicit[c] && set[c] {
					cur[c] = to
				}
			}
		case cur != nil && byteLine.MatchString(l):
			m := byteLine.FindStringSubmatch(l)
			c, _ := strconv.ParseUint(m[1], 16, 8)
			to, _ := strconv.Atoi(m[2])
			cur[c] = to
			explicit[c] = true
		default:
			return nil, fmt.Errorf("dump line %d: cannot read %q", line, l)
		}
	}
	return d, sc.Err()
}

// parseClass reads a dump's class: "" is every byte, "^..." a negation.
func parseClass(s string) ([256]bool, error) {
	var set [256]bool
	neg := s == "" || strings.HasPrefix(s, "^")
	s = strings.TrimPrefix(s, "^")
	var items []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == 'x':
			j := i + 2
			for j < len(s) && j < i+4 && strings.IndexByte("0123456789abcdefABCDEF", s[j]) >= 0 {
				j++
			}
			v, err := strconv.ParseUint(s[i+2:j], 16, 8)
			if err != nil {
				return set, fmt.Errorf("class %q: %w", s, err)
			}
			items = append(items, byte(v))
			i = j - 1
		case c == '\\' && i+1 < len(s):
			items = append(items, s[i+1])
			i++
		case c == '-' && len(items) > 0 && i+1 < len(s):
			for x := int(items[len(items)-1]); x <= int(s[i+1]); x++ {
				set[x] = true
			}
			i++
		default:
			items = append(items, c)
		}
	}
	for _, c := range items {
		set[c] = true
	}
	if neg {
		for i := range set {
			set[i] = !set[i]
		}
	}
	return set, nil
}

// Run follows path from the start state and returns the permissions of the
// state it ends in, and whether that state accepts at all.
func (d *DFA) Run(path string) (Perms, bool) {
	s := d.Start
	for i := 0; i < len(path); i++ {
		t := d.next[s]
		if t == nil || t[path[i]] < 0 {
			return Perms{}, false
		}
		s = t[path[i]]
	}
	p, ok := d.Accept[s]
	return p, ok
}

// Build runs apparmor_parser (the binary named parser) on profile text and
// parses the DFA it builds.
func Build(parser, profile string) (*DFA, error) {
	cmd := exec.Command(parser, "-Q", "-K", "-D", "dfa-states")
	cmd.Stdin = strings.NewReader(profile)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", parser, err, out.String())
	}
	return Parse(out.String())
}
