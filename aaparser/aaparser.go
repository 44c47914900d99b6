// Package aaparser runs AppArmor's apparmor_parser, the authority on profile
// syntax: it compiles policy without a kernel (validation, policy
// comparison) and loads, replaces and removes profiles in the kernel.
//
// Profiles reach the parser on standard input where no file is needed, and
// the parser's own message is part of every error.
package aaparser

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Exec runs name with args and stdin and returns its standard output and
// standard error. It is the one side effect of this package, replaceable in
// tests by a recording stand-in.
type Exec func(ctx context.Context, name string, args []string, stdin []byte) (stdout, stderr []byte, err error)

// Runner runs one apparmor_parser binary.
type Runner struct {
	// Path is the apparmor_parser binary; "apparmor_parser" when empty.
	Path string
	// IncludeDirs are added with -I, searched before the parser's default
	// (/etc/apparmor.d) for include <...> and include "...".
	IncludeDirs []string
	// FeaturesFile, when set, is passed with -M: compile against that
	// feature set instead of the running kernel's (or the parser's default).
	// Comparisons of compiled policy on a host without AppArmor need it:
	// with the default feature set apparmor_parser 3.0 silently drops
	// signal, ptrace, unix, dbus and mount rules from its output, so two
	// profiles differing only in those rules would compare equal.
	// ABI30Features is the usual value.
	FeaturesFile string
	// Exec runs the parser; exec.CommandContext when nil.
	Exec Exec
}

// ABI30Features is Debian's AppArmor 3.0 feature set, the one aa-flow's
// profiles pin with abi <abi/3.0>.
const ABI30Features = "/etc/apparmor.d/" + abi30

// abi30 is where a profile directory keeps the AppArmor 3.0 feature set.
const abi30 = "abi/3.0"

// ABI30In returns the AppArmor 3.0 feature set of the profile directory dir
// (dir/abi/3.0), or "" when dir has none.
func ABI30In(dir string) string {
	p := filepath.Join(dir, abi30)
	if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	return p
}

func (r *Runner) bin() string {
	if r.Path == "" {
		return "apparmor_parser"
	}
	return r.Path
}

func (r *Runner) run(ctx context.Context, args []string, stdin []byte) ([]byte, []byte, error) {
	full := make([]string, 0, len(args)+2*len(r.IncludeDirs)+2)
	if r.FeaturesFile != "" {
		full = append(full, "-M", r.FeaturesFile)
	}
	for _, d := range r.IncludeDirs {
		full = append(full, "-I", d)
	}
	full = append(full, args...)
	if r.Exec != nil {
		return r.Exec(ctx, r.bin(), full, stdin)
	}
	return SystemExec(ctx, r.bin(), full, stdin)
}

// SystemExec is the real Exec: it starts the program.
func SystemExec(ctx context.Context, name string, args []string, stdin []byte) ([]byte, []byte, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	// apparmor_parser forks workers that inherit the output pipes: killing
	// only the parent on cancellation would leave Wait blocked until they
	// finish (forever, on some inputs). Run it in its own process group and
	// kill the whole group; WaitDelay bounds the wait for the pipes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		if cmd.Process == nil {
			return nil
		}
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = 2 * time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &errb
	err := cmd.Run()
	return out.Bytes(), errb.Bytes(), err
}

// Error is a failure of apparmor_parser, with its own message.
type Error struct {
	Op     string // "compile", "replace", ...
	Name   string // the profile file or name the parser was given
	Stderr string // the parser's message, trimmed
	Err    error  // the exec error (exit status)
}

func (e *Error) Error() string {
	msg := e.Stderr
	if msg == "" && e.Err != nil {
		msg = e.Err.Error()
	}
	if e.Name != "" {
		return fmt.Sprintf("apparmor_parser %s %s: %s", e.Op, e.Name, msg)
	}
	return fmt.Sprintf("apparmor_parser %s: %s", e.Op, msg)
}

func (e *Error) Unwrap() error { return e.Err }

// cleanStderr drops the parser's noise about the cache on hosts without an
// AppArmor kernel, keeping the messages that matter.
func cleanStderr(b []byte) string {
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Cache read/write disabled") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// Compile compiles policy text without a kernel (-Q -K -S) and returns the
// binary policy. Two texts with the same rules compile to identical bytes.
// name is used in errors only.
func (r *Runner) Compile(ctx context.Context, name string, src []byte) ([]byte, error) {
	out, stderr, err := r.run(ctx, []string{"-Q", "-K", "-q", "-S"}, src)
	if err != nil {
		return nil, &Error{Op: "compile", Name: name, Stderr: cleanStderr(stderr), Err: err}
	}
	return out, nil
}

// CompileFile is Compile for a file on disk, so that the parser resolves
// relative includes the way it will when loading the file.
func (r *Runner) CompileFile(ctx context.Context, path string) ([]byte, error) {
	out, stderr, err := r.run(ctx, []string{"-Q", "-K", "-q", "-S", path}, nil)
	if err != nil {
		return nil, &Error{Op: "compile", Name: path, Stderr: cleanStderr(stderr), Err: err}
	}
	return out, nil
}

// Validate reports whether the parser accepts the policy text.
func (r *Runner) Validate(ctx context.Context, name string, src []byte) error {
	_, err := r.Compile(ctx, name, src)
	return err
}

// Replace loads or replaces the profiles in the file in the kernel
// (-r -W: write the cache). Mode comes from the file's flags.
func (r *Runner) Replace(ctx context.Context, path string) error {
	if _, stderr, err := r.run(ctx, []string{"-r", "-W", path}, nil); err != nil {
		return &Error{Op: "replace", Name: path, Stderr: cleanStderr(stderr), Err: err}
	}
	return nil
}

// Remove unloads the profiles in the file from the kernel (-R).
func (r *Runner) Remove(ctx context.Context, path string) error {
	if _, stderr, err := r.run(ctx, []string{"-R", path}, nil); err != nil {
		return &Error{Op: "remove", Name: path, Stderr: cleanStderr(stderr), Err: err}
	}
	return nil
}
