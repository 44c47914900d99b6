package rollout

import (
	"regexp"
	"strings"
)

var flagsRE = regexp.MustCompile(`flags\s*=\s*\(([^)]*)\)|flags\s*=\s*([A-Za-z_]+)`)

// ModeOf returns the mode the kernel will report for the profile name in
// src, from its flags: complain, kill, unconfined, prompt, or enforce.
func ModeOf(src []byte, name string) string {
	return modeFromFlags(headerFlags(string(src), name))
}

func modeFromFlags(flags []string) string {
	for _, m := range []string{"complain", "kill", "unconfined", "prompt"} {
		for _, f := range flags {
			if f == m {
				return m
			}
		}
	}
	return "enforce"
}

// headerFlags finds the flags of the first profile header in src (the text
// before the first '{' outside comments).
func headerFlags(src, _ string) []string {
	var b strings.Builder
	for _, l := range strings.Split(src, "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "#") && !strings.HasPrefix(t, "#include") {
			continue
		}
		if i := strings.Index(l, " #"); i >= 0 {
			l = l[:i]
		}
		b.WriteString(l)
		b.WriteByte('\n')
		if strings.Contains(l, "{") {
			break
		}
	}
	head := b.String()
	if i := strings.Index(head, "{"); i >= 0 {
		head = head[:i]
	}
	m := flagsRE.FindStringSubmatch(head)
	if m == nil {
		return nil
	}
	raw := m[1] + m[2]
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
}
