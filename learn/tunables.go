package learn

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// varRef is a variable reference in a rule: @{NAME}.
var varRef = regexp.MustCompile(`@\{([A-Za-z0-9_]+)\}`)

// TunablesError is the error of rules that use the variables
// <tunables/global> defines, for a profile file that neither includes it
// nor defines them: nothing is written.
type TunablesError struct {
	Profile, Path string
	// Missing are the variables (@{HOME}) and abstractions
	// (<abstractions/base>, which use them) the rules need.
	Missing []string
}

func (e *TunablesError) Error() string {
	return fmt.Sprintf("%s: not written: the rules use %s, which need the variables <tunables/global> defines, and %s does not include it; add `include <tunables/global>` at the top of the file and apply again (aa-flow apply %s)",
		e.Profile, strings.Join(e.Missing, " "), e.Path, e.Profile)
}

// needsTunables returns a *TunablesError naming the variables
// (and abstractions, which use them) the chosen rules need that the profile
// file neither defines nor includes tunables/global for: apparmor_parser would refuse the
// result with "variable ... is never declared".
func needsTunables(t *Target, chosen []profiles.Chosen) error {
	defined := map[string]bool{}
	for _, n := range t.File.Items {
		switch n := n.(type) {
		case *profiles.Include:
			if strings.HasPrefix(n.Path, "tunables/") {
				return nil // tunables/global or a part of it defines them
			}
		case *profiles.Variable:
			defined[n.Name] = true
		}
	}
	var missing []string
	for _, c := range chosen {
		if inc, ok := strings.CutPrefix(strings.TrimSpace(c.Text), "include "); ok && !slices.Contains(missing, inc) {
			missing = append(missing, inc) // abstractions use the tunables' variables
			continue
		}
		for _, m := range varRef.FindAllStringSubmatch(c.Text, -1) {
			if !defined[m[1]] && !slices.Contains(missing, "@{"+m[1]+"}") {
				missing = append(missing, "@{"+m[1]+"}")
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return &TunablesError{Profile: t.Name, Path: t.Path, Missing: missing}
}
