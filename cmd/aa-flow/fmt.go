package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/aaparser"
	"github.com/aa-flow/aa-flow/internal/termsafe"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/templates"
)

func newFmtCmd(g *globalOptions) *cobra.Command {
	var write, check bool
	cmd := &cobra.Command{
		Use:   "fmt [-w | --check] FILE...",
		Short: "Print AppArmor profiles in canonical form",
		Long: `fmt prints each policy file (profile, abstraction or tunables) in aa-flow's
canonical layout: preamble in source order, 2-space indent, rules grouped
by kind (includes, capability, network, signal/ptrace/unix/dbus/mount, files,
change_profile, child profiles and hats), comments kept with their rule.
The canonical text compiles to the same policy as the original.

With -w each file is rewritten in place, atomically, keeping its mode; a
file whose original compiles is only written when the new text compiles to
identical policy. With --check nothing is written: the files that would
change are listed and the exit status is 1. "-" reads standard input.

Examples:
  aa-flow fmt /etc/apparmor.d/usr.sbin.nginx
  aa-flow fmt --check /etc/apparmor.d/usr.*
  aa-flow fmt -w /etc/apparmor.d/usr.sbin.nginx`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("fmt needs at least one FILE (or - for standard input)")
			}
			if write && check {
				return usagef("-w and --check cannot be combined")
			}
			for _, a := range args {
				if a == "-" && write {
					return usagef("-w cannot rewrite standard input")
				}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var failed, changed int
			var msgs []string // with --json, in the one error object
			for _, a := range args {
				ch, err := fmtOne(cmd.Context(), g, a, write, check)
				if err != nil {
					if g.JSON {
						msgs = append(msgs, message(err, ""))
					} else {
						fmt.Fprintln(g.Err, "aa-flow fmt:", termsafe.Text(message(err, "")))
					}
					failed++
					continue
				}
				if ch {
					changed++
				}
			}
			switch {
			case failed > 0 && len(msgs) > 0:
				return withCode(exitError, fmt.Errorf("fmt: %d of %d file(s) failed:\n%s", failed, len(args), strings.Join(msgs, "\n")))
			case failed > 0:
				return withCode(exitError, fmt.Errorf("fmt: %d of %d file(s) failed", failed, len(args)))
			case check && changed > 0:
				return withCode(exitError, fmt.Errorf("fmt: %d file(s) not in canonical form", changed))
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&write, "write", "w", false, "rewrite the files in place (atomically)")
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; list the files that would change and exit 1 if any")
	return cmd
}

// fmtOne formats one file (or standard input for "-") and reports whether
// its canonical form differs from it.
func fmtOne(ctx context.Context, g *globalOptions, arg string, write, check bool) (bool, error) {
	var src []byte
	var err error
	path, name := arg, arg
	if arg == "-" {
		name = "<stdin>"
		src, err = io.ReadAll(g.In)
	} else {
		// Rewrite the file a symlink points to, not the link.
		if path, err = filepath.EvalSymlinks(arg); err == nil {
			src, err = os.ReadFile(path)
		}
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	if binary(src) {
		return false, fmt.Errorf("%s: not a profile: binary data (NUL or control bytes)", name)
	}
	out, err := templates.Format(name, src)
	if err != nil {
		return false, err
	}
	changed := !bytes.Equal(src, out)
	switch {
	case check:
		if changed {
			fmt.Fprintln(g.Out, arg)
		}
	case write:
		if !changed {
			return false, nil
		}
		// The one profile writer: under the directory's lock, refused if
		// the file changed since it was read, verified, atomic, keeping
		// the file's mode.
		h := newHost(g, false)
		h.Log = nil
		if _, err := h.Write(ctx, rollout.Write{Path: path, Src: out, Base: src, Check: func(ctx context.Context, old, src []byte) error {
			return verifySame(ctx, g, name, old, src)
		}}); err != nil {
			return changed, err
		}
	default:
		if _, err := g.Out.Write(out); err != nil {
			return changed, fmt.Errorf("write: %w", err)
		}
	}
	return changed, nil
}

// binary reports whether src is not text a profile could be: a NUL, or a
// control byte other than the blanks the profile language allows, in its
// first 8 KiB. Its bytes are never echoed in an error.
func binary(src []byte) bool {
	head := src[:min(len(src), 8<<10)]
	for _, c := range head {
		if c == 0 || c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' || c == 0x7f {
			return true
		}
	}
	return false
}

// verifySame refuses a rewrite whose text does not compile to the policy
// the original compiles to. An original the parser cannot compile on its
// own (an abstraction, a tunables file) is written unverified, with a note.
//
// The comparison pins the features to the profile directory's abi/3.0 when
// it has one: without a features file, apparmor_parser on a host without
// AppArmor drops signal, ptrace, unix, dbus and mount rules from the
// compiled policy and could not tell a wrong rendering of them.
func verifySame(ctx context.Context, g *globalOptions, name string, src, out []byte) error {
	plain := &aaparser.Runner{Path: g.Parser}
	r := plain
	if features := aaparser.ABI30In(g.ProfileDir); features != "" {
		r = &aaparser.Runner{Path: g.Parser, FeaturesFile: features}
	}
	want, err := r.Compile(ctx, name, src)
	if err != nil && r != plain {
		r = plain // the original needs features beyond abi/3.0
		want, err = r.Compile(ctx, name, src)
	}
	if err != nil {
		g.warn("fmt %s: not verified with apparmor_parser (the original does not compile on its own)", name)
		return nil
	}
	got, err := r.Compile(ctx, name+" (formatted)", out)
	if err != nil {
		return fmt.Errorf("%s: not rewritten: the canonical text does not compile: %w", name, err)
	}
	if !bytes.Equal(want, got) {
		return fmt.Errorf("%s: not rewritten: the canonical text compiles to different policy (please report this bug)", name)
	}
	return nil
}
