package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"

	"github.com/aa-flow/aa-flow/internal/termsafe"
	"github.com/aa-flow/aa-flow/learn"
	"github.com/aa-flow/aa-flow/store"
)

// writeJSON is every command's --json output: v, indented, one document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// silentExit ends the process with code and prints nothing: the command has
// already said what there is to say (learn --check's diff, exit 3).
type silentExit struct{ code int }

func (e *silentExit) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// exitWith is the silentExit of code.
func exitWith(code int) error { return &silentExit{code: code} }

// exitCode is the process's exit status for err. started says whether the
// command's own code ran: anything that fails before it (flags, arguments,
// an unknown command) is a usage mistake.
func exitCode(err error, started bool) int {
	var se *silentExit
	var ce *codeError
	var ue usageError
	switch {
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ce):
		return ce.code
	case errors.As(err, &ue), errors.Is(err, store.ErrBadName), !started:
		return exitUsage
	}
	return exitError
}

// jsonError is the object --json writes on standard error for a failure.
type jsonError struct {
	Error string `json:"error"`
	Exit  int    `json:"exit"`
}

// reportError writes err for a person (or, with --json, as a JSON object)
// on standard error. name is the profile the command was about, if any.
func reportError(g *globalOptions, err error, code int, name string) {
	msg := termsafe.Text(message(err, name))
	if g.JSON {
		_ = writeJSON(g.Err, jsonError{Error: msg, Exit: code})
		return
	}
	fmt.Fprintln(g.Err, "aa-flow:", msg)
}

// jsonNote is what --json writes on standard error besides an error: a
// warning, or a note of what the command is doing. With --json every line
// on standard error is part of such an object (or of a jsonError), never
// plain text.
type jsonNote struct {
	Warning string `json:"warning,omitempty"`
	Note    string `json:"note,omitempty"`
}

// warn tells the person something they should act on without failing the
// command: "aa-flow: warning: MSG" on standard error, or {"warning": MSG}
// with --json. It prints even with --quiet.
func (g *globalOptions) warn(format string, a ...any) {
	msg := termsafe.Text(fmt.Sprintf(format, a...))
	if g.JSON {
		_ = writeJSON(g.Err, jsonNote{Warning: msg})
		return
	}
	fmt.Fprintln(g.Err, "aa-flow: warning:", msg)
}

// note is a remark that is not a warning: "aa-flow: note: MSG" on standard
// error, or {"note": MSG} with --json.
func (g *globalOptions) note(format string, a ...any) {
	msg := termsafe.Text(fmt.Sprintf(format, a...))
	if g.JSON {
		_ = writeJSON(g.Err, jsonNote{Note: msg})
		return
	}
	fmt.Fprintln(g.Err, "aa-flow: note:", msg)
}

// logw is where a command's notes of what it reads and does go: standard
// error, and with --json each line as {"note": LINE}.
func (g *globalOptions) logw() io.Writer {
	if g.JSON {
		return &noteWriter{w: g.Err}
	}
	return g.Err
}

// noteWriter writes each line written to it as a jsonNote. The writers that
// log to it write whole lines.
type noteWriter struct {
	w    io.Writer
	part []byte
}

func (n *noteWriter) Write(p []byte) (int, error) {
	n.part = append(n.part, p...)
	for {
		i := bytes.IndexByte(n.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(n.part[:i])
		n.part = n.part[i+1:]
		if err := writeJSON(n.w, jsonNote{Note: termsafe.Text(line)}); err != nil {
			return 0, err
		}
	}
}

// managed returns an error wrapping store.ErrNotManaged when aa-flow does
// not manage profile name: every command about a managed profile fails the
// same way (exit 1) for one it does not know.
func managed(g *globalOptions, name string) error {
	st := &store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}
	if _, err := st.Meta(name); err != nil {
		return err
	}
	return nil
}

// onceWriter passes on each line the first time it is written and drops
// repeats: status reads the same log for every profile, and says which log
// once.
type onceWriter struct {
	w    io.Writer
	seen map[string]bool
}

func (o *onceWriter) Write(p []byte) (int, error) {
	if o.seen == nil {
		o.seen = map[string]bool{}
	}
	if o.seen[string(p)] {
		return len(p), nil
	}
	o.seen[string(p)] = true
	return o.w.Write(p)
}

// actionResult is the JSON form of what a command that changes the host
// did (with --json it is the command's whole output).
type actionResult struct {
	Profile string `json:"profile"`
	Action  string `json:"action"` // created, adopted, rollback, complain, ...
	DryRun  bool   `json:"dry_run,omitempty"`
	Loaded  bool   `json:"loaded"`
	Rules   int    `json:"rules,omitempty"` // apply: rule lines written
	// Revision is the revision stored; none on a dry run, which stores
	// nothing.
	Revision *store.Revision `json:"revision,omitempty"`
	// RollbackTo is the stored revision a rollback reinstates (or, on a
	// dry run, would).
	RollbackTo *store.Revision `json:"rollback_to,omitempty"`
	// SetAside are apply's chosen rules apparmor_parser refused.
	SetAside []learn.SetAside `json:"set_aside,omitempty"`
}

// done reports what a command did: r as JSON with --json, else the sentence
// (nothing with --quiet).
func (g *globalOptions) done(r actionResult, format string, a ...any) error {
	if r.DryRun {
		r.Revision = nil
	}
	if g.JSON {
		return writeJSON(g.Out, r)
	}
	if r.DryRun {
		// The plan's steps were printed as "dry-run: would ..."; the
		// message of the real run (revision numbers, "loaded") would
		// not be true.
		g.info("%s: dry run: the checks passed and nothing was changed; the real run does the steps above\n", r.Profile)
		return nil
	}
	g.info(format, a...)
	return nil
}

// info prints a message about what a command did (not its data): nothing
// with --quiet, nor with --json, where the JSON document is the output.
func (g *globalOptions) info(format string, a ...any) {
	if g.Quiet || g.JSON {
		return
	}
	fmt.Fprintf(g.Out, format, a...)
}

// maxLine is the longest line of an error message shown; the rest of a
// longer line (a quoted token of binary data, say) is cut.
const maxLine = 240

// message is err as a person can act on it: a file error reads "cannot read
// PATH: no such file" instead of the chain of operations that led to it, a
// profile aa-flow does not manage is named once with the one command that
// fixes it, and no line runs on.
func message(err error, name string) string {
	msg := err.Error()
	var pe *fs.PathError
	switch {
	case errors.Is(err, store.ErrNotManaged) && name != "":
		msg = fmt.Sprintf("%s is not managed by aa-flow (start with: aa-flow init %s --exec PATH, or --adopt for an existing profile file)", name, name)
	case errors.As(err, &pe):
		msg = pathMessage(msg, pe)
	}
	lines := strings.Split(msg, "\n")
	for i, l := range lines {
		if len(l) > maxLine {
			cut := maxLine
			for cut > 0 && l[cut]&0xc0 == 0x80 {
				cut--
			}
			lines[i] = l[:cut] + fmt.Sprintf("… (%d more bytes)", len(l)-cut)
		}
	}
	return strings.Join(lines, "\n")
}

// pathMessage replaces the part of msg up to the file error with "cannot
// VERB PATH: REASON", keeping what the message says after it.
func pathMessage(msg string, pe *fs.PathError) string {
	inner := pe.Error()
	prefix, rest := "", ""
	if i := strings.LastIndex(msg, inner); i >= 0 {
		prefix, rest = strings.TrimSuffix(msg[:i], ": "), strings.TrimRight(msg[i+len(inner):], ": ")
	}
	if strings.HasSuffix(pe.Op, "exec") {
		// a program that could not start: name the command it was to run
		what := pe.Path
		if strings.HasPrefix(prefix, pe.Path) {
			what = prefix
		}
		return fmt.Sprintf("cannot run %s: %s%s", what, reason(pe.Err), rest)
	}
	verb := "read"
	switch pe.Op {
	case "write", "rename", "mkdir", "create", "link", "symlink", "chmod", "chown", "truncate":
		verb = "write"
	case "remove", "unlink", "unlinkat":
		verb = "remove"
	}
	return fmt.Sprintf("cannot %s %s: %s%s", verb, pe.Path, reason(pe.Err), rest)
}

// reason is a file error's cause in a few words.
func reason(err error) string {
	var errno syscall.Errno
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "no such file"
	case errors.Is(err, fs.ErrPermission):
		return "permission denied"
	case errors.As(err, &errno) && errno == syscall.EISDIR:
		return "is a directory"
	case errors.As(err, &errno) && errno == syscall.ENOTDIR:
		return "a part of the path is not a directory"
	}
	return err.Error()
}
