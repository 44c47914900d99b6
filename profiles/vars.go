package profiles

import (
	"fmt"
	"strings"
)

// Vars are AppArmor variables by name without @{ }: @{HOME} is
// Vars["HOME"] = ["@{HOMEDIRS}/*/", "/root/"]. Values are patterns and may
// themselves use variables and alternations; Expand follows them
// recursively and refuses cycles.
type Vars map[string][]string

// maxExpansion bounds the size of an expanded pattern, so that a hostile
// tunables file cannot make expansion explode.
const maxExpansion = 1 << 16

// Expand replaces every @{NAME} in pattern by its values, as apparmor_parser
// does: one value is inserted as is, several become an alternation
// {v1,v2}; when the variable is followed by '/', a trailing '/' of each
// value is dropped; finally runs of unescaped '/' collapse to one. An
// undefined variable, a variable without values or a cycle is an error.
func (v Vars) Expand(pattern string) (string, error) {
	out, err := v.expand(pattern, nil)
	if err != nil {
		return "", err
	}
	return collapseSlashes(out), nil
}

// ExpandLabel is Expand for a profile label or name pattern: runs of '/'
// are kept, since "//" separates a profile from its child.
func (v Vars) ExpandLabel(pattern string) (string, error) {
	return v.expand(pattern, nil)
}

func (v Vars) expand(pattern string, stack []string) (string, error) {
	if !strings.Contains(pattern, "@{") {
		return pattern, nil
	}
	var b strings.Builder
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		if c == '\\' && i+1 < len(pattern) {
			b.WriteByte(c)
			b.WriteByte(pattern[i+1])
			i++
			continue
		}
		if c != '@' || i+1 >= len(pattern) || pattern[i+1] != '{' {
			b.WriteByte(c)
			continue
		}
		end := strings.IndexByte(pattern[i+2:], '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed variable in %q", pattern)
		}
		name := pattern[i+2 : i+2+end]
		i += 2 + end // at the '}'
		for _, s := range stack {
			if s == name {
				return "", fmt.Errorf("variable @{%s} refers to itself (%s)", name, strings.Join(append(stack, name), " -> "))
			}
		}
		vals, ok := v[name]
		if !ok {
			return "", fmt.Errorf("undefined variable @{%s}", name)
		}
		if len(vals) == 0 {
			return "", fmt.Errorf("variable @{%s} has no value", name)
		}
		slashNext := i+1 < len(pattern) && pattern[i+1] == '/'
		exp := make([]string, 0, len(vals))
		for _, val := range vals {
			e, err := v.expand(val, append(stack, name))
			if err != nil {
				return "", err
			}
			if slashNext && strings.HasSuffix(e, "/") && !strings.HasSuffix(e, `\/`) {
				e = e[:len(e)-1]
			}
			exp = append(exp, e)
		}
		if len(exp) == 1 {
			b.WriteString(exp[0])
		} else {
			b.WriteByte('{')
			b.WriteString(strings.Join(exp, ","))
			b.WriteByte('}')
		}
		if b.Len() > maxExpansion {
			return "", fmt.Errorf("expanding %q: result longer than %d bytes", pattern, maxExpansion)
		}
	}
	return b.String(), nil
}

// collapseSlashes turns runs of unescaped '/' into one, as apparmor_parser
// does before compiling a path.
func collapseSlashes(p string) string {
	if !strings.Contains(p, "//") {
		return p
	}
	var b strings.Builder
	prevSlash := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '\\' && i+1 < len(p) {
			b.WriteByte(c)
			b.WriteByte(p[i+1])
			i++
			prevSlash = false
			continue
		}
		if c == '/' && prevSlash {
			continue
		}
		prevSlash = c == '/'
		b.WriteByte(c)
	}
	return b.String()
}

// Clone returns a copy of v that can be extended without changing v.
func (v Vars) Clone() Vars {
	out := make(Vars, len(v))
	for k, vals := range v {
		out[k] = append([]string(nil), vals...)
	}
	return out
}

// Define applies a variable definition: `=` replaces, `+=` appends.
func (v Vars) Define(d *Variable) {
	if d.Append {
		v[d.Name] = append(v[d.Name], d.Values...)
		return
	}
	v[d.Name] = append([]string(nil), d.Values...)
}

// IncludeLoader resolves one include seen in the file `from` to the policy
// files it names (a directory include yields several). parser.Resolver.Load
// fits. For `include if exists`, a missing file is no files and no error.
type IncludeLoader func(inc *Include, from string) ([]*File, error)
