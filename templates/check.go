package templates

import (
	"fmt"
	"strings"

	"github.com/aa-flow/aa-flow/profiles"
)

// Template helpers.

// qualifiers renders the rule prefix, "" or the words with a trailing space.
func qualifiers(q profiles.Qualifiers) string {
	var w []string
	if q.Audit {
		w = append(w, "audit")
	}
	if q.Deny {
		w = append(w, "deny")
	}
	if q.Allow {
		w = append(w, "allow")
	}
	if q.Owner {
		w = append(w, "owner")
	}
	if q.Other {
		w = append(w, "other")
	}
	if len(w) == 0 {
		return ""
	}
	return strings.Join(w, " ") + " "
}

// conds renders a rule's conditions separated by blanks: key=value,
// key=(v1, v2) or key in (v1, v2).
func conds(cs []profiles.Cond) string { return condList(cs, false) }

// listConds renders the conditions inside a parenthesised list, peer=(...)
// or xattrs=(...).
func listConds(cs []profiles.Cond) string { return condList(cs, true) }

func condList(cs []profiles.Cond, inList bool) string {
	parts := make([]string, 0, len(cs))
	for _, c := range cs {
		parts = append(parts, cond(c, inList))
	}
	return strings.Join(parts, " ")
}

// cond renders one condition. A key alone (xattrs=(name)) stays alone.
// Inside a parenthesised list apparmor_parser splits on commas, even within
// {} alternations, so a value holding one is quoted there.
func cond(c profiles.Cond, inList bool) string {
	if len(c.Values) == 0 && !c.Paren && !c.In {
		return c.Key
	}
	list := c.Paren || c.In || len(c.Values) != 1
	vals := make([]string, 0, len(c.Values))
	for _, v := range c.Values {
		vals = append(vals, quoteListValue(v, inList || list))
	}
	op := "="
	if c.In {
		op = " in "
	}
	if list {
		return c.Key + op + "(" + strings.Join(vals, ", ") + ")"
	}
	return c.Key + op + vals[0]
}

// quoteListValue is profiles.QuoteToken, and also quotes a value with a comma when
// it stands in a parenthesised list.
func quoteListValue(v string, inList bool) string {
	q := profiles.QuoteToken(v)
	if inList && q == v && strings.Contains(v, ",") {
		return `"` + v + `"`
	}
	return q
}

// quoteArg quotes a positional operand of a class rule. Outside the mount
// family a bare word there would read back as an access word, so anything
// that is not a path is quoted.
func quoteArg(class, v string) string {
	switch class {
	case "mount", "remount", "umount", "pivot_root":
		return profiles.QuoteToken(v)
	}
	return quotePath(v)
}

// access renders an access list: a single word bare, several in parens.
func access(a []string) string {
	if len(a) == 1 {
		return a[0]
	}
	return "(" + strings.Join(a, ", ") + ")"
}

// peer renders peer=LABEL for a lone label of a signal or ptrace rule (the
// only classes whose syntax has it), peer=(conds) otherwise.
func peer(class string, cs []profiles.Cond) string {
	if (class == "signal" || class == "ptrace") && len(cs) == 1 && cs[0].Key == "label" && !cs[0].Paren && !cs[0].In && len(cs[0].Values) == 1 {
		return "peer=" + profiles.QuoteToken(cs[0].Values[0])
	}
	return "peer=(" + listConds(cs) + ")"
}

// Checks: each refuses a node that cannot be written safely.

func checkWords(what string, words ...string) error {
	for _, w := range words {
		if err := checkWord(what, w); err != nil {
			return err
		}
	}
	return nil
}

func checkValues(what string, vals ...string) error {
	for _, v := range vals {
		if err := checkValue(what, v); err != nil {
			return err
		}
	}
	return nil
}

// checkPathToken checks an abi or include path, written as <path> (or
// <"path">, see anglePath) or "path" verbatim.
func checkPathToken(what, p string, angle bool) error {
	bad := "\"\\\n\r\x00"
	if angle {
		bad = "<>\"\n\r\x00"
	}
	if p == "" {
		return fmt.Errorf("empty %s path", what)
	}
	if i := strings.IndexAny(p, bad); i >= 0 {
		return fmt.Errorf("%s path %q: character %q cannot be written there", what, p, p[i])
	}
	return nil
}

func checkVariable(v *profiles.Variable) error {
	if err := checkWord("variable name", v.Name); err != nil {
		return err
	}
	if strings.ContainsAny(v.Name, "=/") {
		return fmt.Errorf("variable name %q: '=' and '/' cannot be part of a name", v.Name)
	}
	return checkValues("variable value", v.Values...)
}

// permLetters are the letters a permission set may hold.
const permLetters = "rwalkmcdx"

// isExecMode reports whether m is an exec mode as apparmor_parser spells
// them: up to three modifier letters then x (ix, Px, pix, PUx, Pux ...).
// apparmor_parser judges the combination; here only the letters matter, so
// nothing but a mode can be written.
func isExecMode(m string) bool {
	if len(m) < 1 || len(m) > 4 || m[len(m)-1] != 'x' {
		return false
	}
	for i := 0; i < len(m)-1; i++ {
		if !strings.ContainsRune("iupPcCU", rune(m[i])) {
			return false
		}
	}
	return true
}

func checkFileRule(r *profiles.FileRule) error {
	if r.Path == "" {
		if !r.FileKeyword {
			return fmt.Errorf("file rule with no path")
		}
		if r.Perms != "" || r.Exec != "" || r.Target != "" {
			return fmt.Errorf("bare file rule cannot carry permissions or a target")
		}
		return nil
	}
	if r.Perms == "" && r.Exec == "" {
		return fmt.Errorf("file rule %q grants no permission", r.Path)
	}
	for i := 0; i < len(r.Perms); i++ {
		if strings.IndexByte(permLetters, r.Perms[i]) < 0 {
			return fmt.Errorf("file rule %q: invalid permission %q in %q", r.Path, r.Perms[i], r.Perms)
		}
	}
	if r.Exec != "" && !isExecMode(r.Exec) {
		return fmt.Errorf("file rule %q: invalid exec mode %q", r.Path, r.Exec)
	}
	if r.Target != "" && r.Exec == "" && !strings.Contains(r.Perms, "l") {
		return fmt.Errorf("file rule %q: a target needs an exec mode or the link permission", r.Path)
	}
	return checkValues("file rule", r.Path, r.Target)
}

func checkLinkRule(r *profiles.LinkRule) error {
	if r.Path == "" || r.Target == "" {
		return fmt.Errorf("link rule needs a path and a target")
	}
	return checkValues("link rule", r.Path, r.Target)
}

func checkConds(what string, cs []profiles.Cond) error {
	for _, c := range cs {
		if err := checkWord(what+" key", c.Key); err != nil {
			return err
		}
		if strings.ContainsAny(c.Key, "=") {
			return fmt.Errorf("%s key %q: '=' cannot be part of a key", what, c.Key)
		}
		if err := checkValues(what+" "+c.Key, c.Values...); err != nil {
			return err
		}
	}
	return nil
}

func checkNetworkRule(r *profiles.NetworkRule) error {
	if err := checkWords("network access", r.Access...); err != nil {
		return err
	}
	for _, w := range []string{r.Family, r.Type, r.Protocol} {
		if w != "" {
			if err := checkWord("network", w); err != nil {
				return err
			}
		}
	}
	if err := checkConds("network condition", r.Conds); err != nil {
		return err
	}
	return checkConds("network peer", r.Peer)
}

func checkClassRule(r *profiles.ClassRule) error {
	if err := checkWord("rule class", r.Class); err != nil {
		return err
	}
	if err := checkWords(r.Class+" access", r.Access...); err != nil {
		return err
	}
	if err := checkConds(r.Class+" condition", r.Conds); err != nil {
		return err
	}
	if err := checkConds(r.Class+" peer", r.Peer); err != nil {
		return err
	}
	return checkValues(r.Class+" operand", append(append([]string{}, r.Args...), r.Target)...)
}

func checkChangeProfile(r *profiles.ChangeProfileRule) error {
	switch r.Mode {
	case "", "safe", "unsafe":
	default:
		return fmt.Errorf("change_profile: invalid mode %q", r.Mode)
	}
	return checkValues("change_profile", append([]string{r.Exec}, r.Targets...)...)
}

func checkRlimit(r *profiles.RlimitRule) error {
	if err := checkWord("rlimit resource", r.Resource); err != nil {
		return err
	}
	if r.Value == "" {
		return fmt.Errorf("rlimit %s has no value", r.Resource)
	}
	return checkWords("rlimit value", strings.Fields(r.Value)...)
}

func checkProfileHeader(p *profiles.Profile) error {
	switch p.Keyword {
	case "", "profile", "hat", "^":
	default:
		return fmt.Errorf("invalid profile keyword %q", p.Keyword)
	}
	if p.Name == "" && p.Attachment == "" {
		return fmt.Errorf("profile has neither a name nor an attachment")
	}
	if p.Keyword != "" && p.Name == "" {
		return fmt.Errorf("%s needs a name", p.Keyword)
	}
	if p.Keyword == "^" && profiles.NeedsQuotes(p.Name) {
		return fmt.Errorf("hat name %q cannot be written after '^'", p.Name)
	}
	if err := checkValues("profile", p.Name, p.Attachment); err != nil {
		return err
	}
	if err := checkConds("xattrs", p.Xattrs); err != nil {
		return err
	}
	return checkWords("profile flag", p.Flags...)
}

// anglePath writes an abi or include path between angle brackets.
// apparmor_parser trims the blanks at the ends of <path> and takes no tab
// inside it, and "<=" reads as the operator of an rlimit rule; such a path
// is quoted within the brackets, <"path">, which is read verbatim.
func anglePath(p string) string {
	if strings.ContainsRune(p, '\t') || strings.TrimSpace(p) != p || strings.HasPrefix(p, "=") {
		return `<"` + p + `">`
	}
	return "<" + p + ">"
}

// permWord writes a file rule's permissions and exec mode as one word:
// the letters, then the mode (rix), or the mode first when the letters
// hold the old create letter c, which would read as the start of the mode
// (c then Cx reads as the unknown mode cCx; Cx then c does not).
func permWord(perms, exec string) string {
	if exec != "" && strings.ContainsRune(perms, 'c') {
		return exec + perms
	}
	return perms + exec
}
