package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/internal/profilefile"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/lint"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/profiles"
	"github.com/aa-flow/aa-flow/store"
)

type lintOptions struct {
	minSeverity int
	severityDB  string
}

func newLintCmd(g *globalOptions) *cobra.Command {
	o := &lintOptions{}
	cmd := &cobra.Command{
		Use:   "lint FILE|NAME...",
		Short: "Warn about rules broader than a service needs",
		Long: `lint reads profiles and warns about rules broader than a service should need,
each with its file:line:col, a severity on severity.db's 0-10 scale and why:

  broad-path         /**, / alone, a whole top-level tree such as /etc/**
  bare-rule          capability, network, file, dbus, unix, mount, ptrace ... with no restriction
  unconfined-exec    ux, Ux, pux, cux ...: the program runs unconfined
  writable-exec      a path the profile makes both writable and executable
  sensitive-path     @{PROC}/*/mem, /dev/mem, /etc/shadow, modprobe, core_pattern ...
  capability         sys_admin, sys_module, sys_ptrace, setuid ... (severity 9-10)
  unconfined-target  change_profile or ptrace to unconfined
  deny-in-complain   deny rules in a complain-mode profile: they still deny
  unknown-variable   a variable neither the file nor the usual tunables define

An argument with a slash is a profile file (./FILE for one in the current
directory); any other argument is a profile's name: the file aa-flow manages
it in, else the file of that name in --profile-dir, else the one file there
declaring a profile of that name. Variables come
from the tunables the file includes, searched in --profile-dir. Severities come
from --severity-db (AppArmor's severity.db) where it rates the rule, otherwise
from fixed values. lint exits 1 when any warning is at or above
--min-severity.`,
		Example: `  aa-flow lint /etc/apparmor.d/usr.sbin.nginx
  aa-flow lint --min-severity 9 nginx
  aa-flow lint --json ./profiles/*`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("lint needs at least one FILE or NAME (see %s --help)", cmd.CommandPath())
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.minSeverity < 0 || o.minSeverity > 10 {
				return usagef("--min-severity must be 0..10, got %d", o.minSeverity)
			}
			return runLint(g, o, args, cmd.Flags().Changed("severity-db"))
		},
	}
	cmd.Flags().IntVar(&o.minSeverity, "min-severity", 7, "exit 1 when a warning is at or above this severity (0-10)")
	cmd.Flags().StringVar(&o.severityDB, "severity-db", lint.DefaultSeverityDB, "AppArmor's severity database")
	return cmd
}

// lintReport is the JSON form of one linted file.
type lintReport struct {
	File     string         `json:"file"`
	Warnings []lint.Warning `json:"warnings"`
}

func runLint(g *globalOptions, o *lintOptions, args []string, dbGiven bool) error {
	path := "" // the default, whose absence means the built-in ratings
	if dbGiven {
		path = o.severityDB
	}
	db, err := lint.OpenSeverity(path)
	if err != nil {
		return err
	}
	kabi := "" // the kernel's ABI, when this host's can be read
	if k := kernelABI(g); k.ABI != nil {
		kabi = k.ABI.Covers
	}
	resolver := parser.ForProfileDir(g.ProfileDir)
	var reports []lintReport
	for _, arg := range args {
		path, err := lintTarget(g, arg)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(path)
		if err != nil {
			return fmt.Errorf("lint: %w", err)
		}
		// variables come from the tunables the file includes; a file whose
		// includes are missing here is still linted, with the usual values
		vars, err := policy.CollectVars(f, resolver.Load)
		if err != nil {
			g.warn("lint %s: includes not followed (%v); using Debian's usual variable values", path, err)
			if vars, err = policy.CollectVars(f, nil); err != nil {
				return fmt.Errorf("lint %s: %w", path, err)
			}
		}
		ws := lint.Lint(f, lint.LintOptions{Severity: db, Vars: vars, KernelABI: kabi, PinnedFeatures: pinnedFeatures(g, f)})
		if ws == nil {
			ws = []lint.Warning{}
		}
		reports = append(reports, lintReport{File: path, Warnings: ws})
	}
	failing := 0
	total := 0
	for _, r := range reports {
		for _, w := range r.Warnings {
			total++
			if w.Severity >= o.minSeverity {
				failing++
			}
		}
	}
	if g.JSON {
		if err := writeJSON(g.Out, reports); err != nil {
			return err
		}
	} else {
		for _, r := range reports {
			for _, w := range r.Warnings {
				mark := " "
				if w.Severity >= o.minSeverity {
					mark = "!"
				}
				fmt.Fprintf(g.Out, "%s %s\n    %s\n", mark, w, w.Rule)
			}
		}
		fmt.Fprintf(g.Out, "%d file(s), %d warning(s), %d at or above severity %d\n", len(reports), total, failing, o.minSeverity)
	}
	if failing > 0 {
		return withCode(exitError, fmt.Errorf("lint: %d warning(s) at or above severity %d", failing, o.minSeverity))
	}
	return nil
}

// lintTarget turns a lint argument into a file. An argument with a slash is
// a file path (./FILE for one in the current directory); any other is a
// profile name, looked up in the profile directory — never a file of that
// name in the current directory.
func lintTarget(g *globalOptions, arg string) (string, error) {
	if strings.ContainsRune(arg, '/') {
		return arg, nil
	}
	return profilefile.Find(&store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}, arg)
}

// pinnedFeatures are the features of the abi file f pins (abi <abi/4.0>, from
// the parser's abi directory), nil when it pins none or the file is not there.
func pinnedFeatures(g *globalOptions, f *profiles.File) kernel.Features {
	for _, n := range f.Items {
		a, ok := n.(*profiles.Abi)
		if !ok || !a.Angle || !strings.HasPrefix(a.Path, "abi/") {
			continue
		}
		feats, err := kernel.ReadFeaturesFile(filepath.Join(abiDir(g), strings.TrimPrefix(a.Path, "abi/")))
		if err != nil {
			return nil
		}
		return feats
	}
	return nil
}
