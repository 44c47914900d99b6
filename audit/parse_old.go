package audit

import (
	"strconv"
	"strings"
)

// AppArmor 2.0-2.2 kernels (type=APPARMOR, 1500) wrote prose records:
//
//	REJECTING r access to /bin/df (sh(7902) profile /usr/sbin/httpd2-prefork active SYSINFO)
//	PERMITTING link access from /a to /b (ln(1) profile /p active /p)
//	REJECTING access to syscall 'ptrace' (...)
//	PERMITTING access to capability 'cap' (...)
//	REJECTING mkdir on /path (...)
//	PERMITTING attribute (mode) change to /else (...)
//	AUDITING mr access to /lib/ld-2.4.so (...)
//	LOGPROF-HINT fork pid=27764 child=38229 profile=/p active=/p
//
// libapparmor leaves them unparsed; here they become ordinary events so
// that old logs still teach something: file accesses get class "file" and
// operation "access" (or the verb the record names: mkdir, link, ...),
// capabilities class "cap". The hat ("active") is kept in Extra.

var oldVerbs = [...]struct {
	verb string
	mode Mode
}{
	{"REJECTING ", ModeDenied},
	{"PERMITTING ", ModeAllowed},
	{"AUDITING ", ModeAudit},
	{"LOGPROF-HINT ", ModeHint},
}

func isOldVerb(s string) bool {
	for _, v := range oldVerbs {
		if strings.HasPrefix(s, v.verb) {
			return true
		}
	}
	return false
}

// parseOld parses a 2.x prose record body s (at byte off of the line).
func parseOld(s string, off int, e *Event) error {
	bad := func(msg string) error {
		return &ParseError{Column: off + 1, Msg: "2.x record: " + msg}
	}
	var rest string
	for _, v := range oldVerbs {
		if strings.HasPrefix(s, v.verb) {
			e.Mode, rest = v.mode, s[len(v.verb):]
			break
		}
	}
	if e.Mode == "" {
		return bad("unknown verb")
	}
	if e.Mode == ModeHint {
		return parseOldHint(rest, off+len(s)-len(rest), e)
	}

	// Trailer: " (COMM(PID) profile PROFILE active ACTIVE)".
	t := strings.TrimRight(rest, " ")
	if !strings.HasSuffix(t, ")") {
		return bad("no (comm(pid) profile ... active ...) trailer")
	}
	t = t[:len(t)-1]
	ai := strings.LastIndex(t, " active ")
	pi := strings.LastIndex(t, " profile ")
	if ai < 0 || pi < 0 || pi+len(" profile ") > ai {
		return bad("no profile/active in trailer")
	}
	active, profile := t[ai+len(" active "):], t[pi+len(" profile "):ai]
	t = t[:pi]
	if !strings.HasSuffix(t, ")") {
		return bad("no pid in trailer")
	}
	q := strings.LastIndexByte(t, '(')
	if q < 0 {
		return bad("no pid in trailer")
	}
	pid, err := strconv.ParseInt(t[q+1:len(t)-1], 10, 64)
	if err != nil {
		return bad("pid is not a number")
	}
	t = t[:q]
	o := strings.LastIndex(t, " (")
	if o < 0 {
		return bad("no command in trailer")
	}
	e.Comm, e.PID, e.Profile = t[o+2:], pid, profile
	if active != profile {
		e.Extra = append(e.Extra, KV{"active", active})
	}
	desc := t[:o]

	switch {
	// len > prefix: the closing quote must not be the prefix's own.
	case strings.HasPrefix(desc, "access to syscall '") && len(desc) > len("access to syscall '") && strings.HasSuffix(desc, "'"):
		e.Operation, e.Name = "syscall", desc[len("access to syscall '"):len(desc)-1]
	case strings.HasPrefix(desc, "access to capability '") && len(desc) > len("access to capability '") && strings.HasSuffix(desc, "'"):
		e.Operation = "capable"
		e.Name = desc[len("access to capability '") : len(desc)-1]
		e.Capname = e.Name
	case strings.HasPrefix(desc, "link access from "):
		from, to, ok := strings.Cut(desc[len("link access from "):], " to ")
		if !ok {
			return bad("link record without \" to \"")
		}
		e.Operation, e.Name, e.Name2, e.RequestedMask = "link", from, to, "l"
	case strings.HasPrefix(desc, "attribute ("):
		attr, path, ok := strings.Cut(desc[len("attribute ("):], ") change to ")
		if !ok {
			return bad("attribute record without \") change to \"")
		}
		e.Operation, e.Attribute, e.Name = "setattr", attr, path
	default:
		if mask, path, ok := strings.Cut(desc, " access to "); ok && !strings.Contains(mask, " ") {
			e.Operation, e.RequestedMask, e.Name = "access", mask, path
		} else if op, path, ok := strings.Cut(desc, " on "); ok {
			e.Operation, e.Name = op, path
		} else {
			return bad("unrecognised description " + strconv.Quote(desc))
		}
	}
	switch e.Operation {
	case "capable":
		e.Class = "cap"
	case "syscall":
	default:
		// What newer kernels log as class="file".
		e.Class = "file"
	}
	if e.Mode == ModeDenied || e.Mode == ModeAllowed {
		e.DeniedMask = e.RequestedMask
	}
	return nil
}

// parseOldHint parses "OPERATION [NAME] key=value ...".
func parseOldHint(s string, off int, e *Event) error {
	op, rest, _ := strings.Cut(s, " ")
	e.Operation = op
	i := 0
	for i < len(rest) {
		if rest[i] == ' ' {
			i++
			continue
		}
		j := i
		for j < len(rest) && rest[j] != ' ' {
			j++
		}
		word := rest[i:j]
		key, val, ok := strings.Cut(word, "=")
		switch {
		case !ok && e.Name == "":
			e.Name = word
		case !ok:
			return &ParseError{Column: off + i + 1, Field: word, Msg: "2.x hint: expected key=value"}
		case key == "child":
			e.Extra = append(e.Extra, KV{"task", val})
		default:
			if msg := e.set(key, val, true, false, nil); msg != "" {
				return &ParseError{Column: off + i + 1, Field: key, Msg: msg}
			}
		}
		i = j
	}
	return nil
}
