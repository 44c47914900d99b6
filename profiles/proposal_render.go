package profiles

import (
	"fmt"
	"strings"
)

// RenderRule writes one proposed rule as profile text, without indentation
// and with its trailing comma. It knows the rule shapes Propose builds; the
// CLI may render with the templates package instead (ProposeOptions.Render).
// Paths are written as they are in the model (already escaped) and quoted
// when they hold whitespace or characters the profile lexer would split on.
func RenderRule(n Node) (string, error) {
	var b strings.Builder
	switch r := n.(type) {
	case *FileRule:
		writeQualifiers(&b, r.Q)
		if r.Path == "" {
			return "", fmt.Errorf("render file rule: empty path")
		}
		b.WriteString(quoteToken(r.Path))
		b.WriteString(" ")
		b.WriteString(r.Perms + r.Exec)
		if r.Target != "" {
			b.WriteString(" -> " + quoteToken(r.Target))
		}
	case *LinkRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("link ")
		if r.Subset {
			b.WriteString("subset ")
		}
		b.WriteString(quoteToken(r.Path) + " -> " + quoteToken(r.Target))
	case *CapabilityRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("capability")
		for _, c := range r.Caps {
			b.WriteString(" " + c)
		}
	case *NetworkRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("network")
		for _, w := range []string{r.Family, r.Type, r.Protocol} {
			if w != "" {
				b.WriteString(" " + w)
			}
		}
	case *ChangeProfileRule:
		writeQualifiers(&b, r.Q)
		b.WriteString("change_profile")
		if r.Mode != "" {
			b.WriteString(" " + r.Mode)
		}
		if r.Exec != "" {
			b.WriteString(" " + quoteToken(r.Exec))
		}
		if len(r.Targets) > 0 {
			b.WriteString(" ->")
			for _, t := range r.Targets {
				b.WriteString(" " + quoteToken(t))
			}
		}
	case *ClassRule:
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
			b.WriteString(" peer=" + quoteToken(r.Peer[0].Values[0]))
		} else if len(r.Peer) > 0 {
			parts := make([]string, len(r.Peer))
			for i, c := range r.Peer {
				parts[i] = renderCond(c)
			}
			b.WriteString(" peer=(" + strings.Join(parts, ", ") + ")")
		}
		for _, a := range r.Args {
			b.WriteString(" " + quoteToken(a))
		}
		if r.Target != "" {
			b.WriteString(" -> " + quoteToken(r.Target))
		}
	case *Profile:
		// Only the empty child Propose creates for a cx rule.
		if len(r.Rules) > 0 {
			return "", fmt.Errorf("render: profile %s has a body; render it with the templates package", r.DisplayName())
		}
		b.WriteString("profile " + quoteToken(r.Name))
		if len(r.Flags) > 0 {
			b.WriteString(" flags=(" + strings.Join(r.Flags, ", ") + ")")
		}
		return b.String() + " { }", nil
	case *Include:
		if r.IfExists {
			b.WriteString("include if exists ")
		} else {
			b.WriteString("include ")
		}
		if r.Angle {
			return b.String() + "<" + r.Path + ">", nil
		}
		return b.String() + quoteAlways(r.Path), nil
	default:
		return "", fmt.Errorf("render: no rule form for %s", n.Kind())
	}
	b.WriteString(",")
	return b.String(), nil
}

func writeQualifiers(b *strings.Builder, q Qualifiers) {
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

func renderCond(c Cond) string {
	vals := make([]string, len(c.Values))
	for i, v := range c.Values {
		vals[i] = quoteToken(v)
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

// quoteToken quotes a pattern when the profile lexer would otherwise split
// it or read part of it as syntax. Escapes stay as they are: the parser
// reads them the same inside quotes.
func quoteToken(s string) string {
	if s == "" {
		return `""`
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"#()=<>'`+"`", c) >= 0 {
			return quoteAlways(s)
		}
	}
	return s
}

func quoteAlways(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '"' && (i == 0 || s[i-1] != '\\') {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteByte('"')
	return b.String()
}
