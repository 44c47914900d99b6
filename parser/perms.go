package parser

import (
	"fmt"
	"strings"
)

// permOrder is the canonical order of the non-exec permission letters.
const permOrder = "rwalkmcd"

// execModifiers are the letters that may precede 'x' in an exec mode.
const execModifiers = "iupPcCU"

// execModes are the exec modes a file rule may grant.
var execModes = map[string]bool{
	"x": true, "ix": true, "px": true, "Px": true, "cx": true, "Cx": true,
	"ux": true, "Ux": true, "pix": true, "Pix": true, "cix": true, "Cix": true,
	"pux": true, "PUx": true, "cux": true, "CUx": true,
	// apparmor_parser also takes these spellings of PUx and CUx.
	"Pux": true, "Cux": true, "pUx": true, "cUx": true,
}

// upperPerms are the capital letters apparmor_parser reads as their lower
// case (P, U and C mean something else and are kept).
const upperPerms = "RWALKMXI"

// isPerms reports whether w is made only of permission letters.
func isPerms(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if !strings.ContainsRune(permOrder+execModifiers+"x"+upperPerms, rune(w[i])) {
			return false
		}
	}
	return true
}

// parsePerms splits a permission word such as "rmCx" into the non-exec
// letters in canonical order ("rm") and the exec mode ("Cx").
func parsePerms(w string) (perms, exec string, err error) {
	if !isPerms(w) {
		return "", "", fmt.Errorf("invalid permissions %q", w)
	}
	w = strings.Map(func(r rune) rune {
		if strings.ContainsRune(upperPerms, r) {
			return r + 'a' - 'A'
		}
		return r
	}, w)
	have := map[byte]bool{}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if strings.IndexByte(execModifiers, c) >= 0 || c == 'x' {
			j := i
			for j < len(w) && strings.IndexByte(execModifiers, w[j]) >= 0 {
				j++
			}
			if j == len(w) || w[j] != 'x' {
				if c == 'c' || c == 'd' { // create / delete letters, kept
					have[c] = true
					continue
				}
				return "", "", fmt.Errorf("invalid permissions %q: %q is not followed by x", w, w[i:j])
			}
			mode := w[i : j+1]
			if !execModes[mode] {
				return "", "", fmt.Errorf("invalid permissions %q: unknown exec mode %q", w, mode)
			}
			if exec != "" && exec != mode {
				return "", "", fmt.Errorf("invalid permissions %q: conflicting exec modes %q and %q", w, exec, mode)
			}
			exec = mode
			i = j
			continue
		}
		have[c] = true
	}
	var b strings.Builder
	for i := 0; i < len(permOrder); i++ {
		if have[permOrder[i]] {
			b.WriteByte(permOrder[i])
		}
	}
	return b.String(), exec, nil
}
