package propose

import (
	"fmt"
	"github.com/aa-flow/aa-flow/profiles"
	"strings"
)

// RenderRule writes one proposed rule as profile text, without indentation
// and with its trailing comma. It knows the rule shapes Propose builds; the
// CLI may render with the templates package instead (ProposeOptions.Render).
// Paths are written as they are in the model (already escaped) and quoted
// when they hold whitespace or characters the profile lexer would split on.
func RenderRule(n profiles.Node) (string, error) {
	var b strings.Builder
	switch r := n.(type) {
	case *profiles.FileRule:
		writeQualifiers(&b, r.Q)
		if r.Path == "" {
			return "", fmt.Errorf("render file rule: empty path")
		}
		b.WriteString(profiles.QuoteToken(r.Path))
		b.WriteString(" ")
		b.WriteString(r.Perms + r.Exec)
		if r.Target != "" {
			b.WriteString(" -> " + profiles.QuoteToken(r.Target))
		}
	case *profiles.LinkRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("link ")
		if r.Subset {
			b.WriteString("subset ")
		}
		b.WriteString(profiles.QuoteToken(r.Path) + " -> " + profiles.QuoteToken(r.Target))
	case *profiles.CapabilityRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("capability")
		for _, c := range r.Caps {
			b.WriteString(" " + c)
		}
	case *profiles.NetworkRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("network")
		for _, w := range []string{r.Family, r.Type, r.Protocol} {
			if w != "" {
				b.WriteString(" " + w)
			}
		}
	case *profiles.ChangeProfileRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("change_profile")
		if r.Mode != "" {
			b.WriteString(" " + r.Mode)
		}
		if r.Exec != "" {
			b.WriteString(" " + profiles.QuoteToken(r.Exec))
		}
		if len(r.Targets) > 0 {
			b.WriteString(" ->")
			for _, t := range r.Targets {
				b.WriteString(" " + profiles.QuoteToken(t))
			}
		}
	case *profiles.ClassRule:
		writeQualifiers(&b, r.Q)
		b.WriteString(r.Class)
		switch len(r.Access) {
		case 0:
		case 1:
			b.WriteString(" " + r.Access[0])
		default:
			b.WriteString(" (" + strings.Join(r.Access, ", ") + ")")
		}
		for _, c := range r.Conds {
			b.WriteString(" " + renderCond(c))
		}
		if len(r.Peer) == 1 && r.Peer[0].Key == "label" && r.Class != "dbus" && r.Class != "unix" {
			b.WriteString(" peer=" + profiles.QuoteToken(r.Peer[0].Values[0]))
		} else if len(r.Peer) > 0 {
			parts := make([]string, len(r.Peer))
			for i, c := range r.Peer {
				parts[i] = renderCond(c)
			}
			b.WriteString(" peer=(" + strings.Join(parts, ", ") + ")")
		}
		for _, a := range r.Args {
			b.WriteString(" " + profiles.QuoteToken(a))
		}
		if r.Target != "" {
			b.WriteString(" -> " + profiles.QuoteToken(r.Target))
		}
	case *profiles.Profile:
		// Only the empty child Propose creates for a cx rule.
		if len(r.Rules) > 0 {
			return "", fmt.Errorf("render: profile %s has a body; render it with the templates package", r.DisplayName())
		}
		b.WriteString("profile " + profiles.QuoteToken(r.Name))
		if len(r.Flags) > 0 {
			b.WriteString(" flags=(" + strings.Join(r.Flags, ", ") + ")")
		}
		return b.String() + " { }", nil
	case *profiles.Include:
		if r.IfExists {
			b.WriteString("include if exists ")
		} else {
			b.WriteString("include ")
		}
		if r.Angle {
			return b.String() + "<" + r.Path + ">", nil
		}
		return b.String() + profiles.QuoteAlways(r.Path), nil
	default:
		return "", fmt.Errorf("render: no rule form for %s", n.Kind())
	}
	b.WriteString(",")
	return b.String(), nil
}

func writeQualifiers(b *strings.Builder, q profiles.Qualifiers) {
	if q.Audit {
		b.WriteString("audit ")
	}
	if q.Deny {
		b.WriteString("deny ")
	}
	if q.Allow {
		b.WriteString("allow ")
	}
	if q.Owner {
		b.WriteString("owner ")
	}
	if q.Other {
		b.WriteString("other ")
	}
}

func renderCond(c profiles.Cond) string {
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		vals[i] = profiles.QuoteToken(v)
	}
	op := "="
	if c.In {
		op = " in "
	}
	if c.Paren || len(vals) > 1 {
		return c.Key + op + "(" + strings.Join(vals, ", ") + ")"
	}
	return c.Key + op + strings.Join(vals, "")
}
