package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/store"
	"github.com/aa-flow/aa-flow/templates"
)

func newCompletionCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print a shell completion script",
		Long: `Print a shell completion script. make install puts them where Debian's shells
look (bash-completion's completions/, zsh's vendor-completions or
site-functions, fish's vendor_completions.d); by hand, for bash:

  aa-flow completion bash > /etc/bash_completion.d/aa-flow

Completion is dynamic: aa-flow itself answers with the managed profiles for
NAME, the starter templates for --template, the modes for --mode, the rule IDs
of the pending proposal for --only, --except and --literal, and the revisions
for rollback --to, honouring --profile-dir and --state-dir on the line.`,
		Args:      exactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(g.Out, true)
			case "zsh":
				return root.GenZshCompletion(g.Out)
			case "fish":
				return root.GenFishCompletion(g.Out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(g.Out)
			}
			return usagef("unknown shell %q: want bash, zsh, fish or powershell", args[0])
		},
	}
}

// Which positional arguments complete to what, by command name.
var (
	// nameCommands take a managed profile's NAME as their first argument.
	nameCommands = map[string]bool{"learn": true, "diff": true, "review": true, "apply": true, "enforce": true,
		"complain": true, "rollback": true, "history": true, "disable": true, "enable": true, "status": true,
		"export": true, "logs": true}
	// noArgCommands take no argument, or a new name nothing can complete.
	noArgCommands = map[string]bool{"version": true, "doctor": true, "init": true}
)

// registerCompletions attaches the dynamic completions to the command tree,
// after every command was added: what a NAME, a flag's value or a rule ID
// can be is read from the profile and state directories the command line
// names (cobra parses it before calling these).
func registerCompletions(root *cobra.Command, g *globalOptions) {
	for _, f := range []string{"profile-dir", "state-dir", "securityfs"} {
		_ = root.MarkPersistentFlagDirname(f)
	}
	for _, c := range root.Commands() {
		name := c.Name()
		switch {
		case nameCommands[name]:
			c.ValidArgsFunction = func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return managedNames(g), cobra.ShellCompDirectiveNoFileComp
			}
		case name == "lint":
			c.ValidArgsFunction = func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
				return managedNames(g), cobra.ShellCompDirectiveDefault
			}
		case noArgCommands[name]:
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
		fixed := func(flag string, values ...string) {
			if c.Flags().Lookup(flag) != nil {
				_ = c.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		switch name {
		case "init":
			fixed("template", templates.StarterTemplates()...)
		case "logs":
			fixed("mode", "denied", "allowed", "all")
		case "apply":
			for _, f := range []string{"only", "except", "literal"} {
				_ = c.RegisterFlagCompletionFunc(f, func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
					return ruleIDs(g, cmd, args, toComplete), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
				})
			}
		case "rollback":
			_ = c.RegisterFlagCompletionFunc("to", func(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
				return revisions(g, args), cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
			})
		}
	}
}

// managedNames are the profiles aa-flow manages under --state-dir.
func managedNames(g *globalOptions) []string {
	names, err := (&store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}).List()
	if err != nil {
		cobra.CompDebugln(err.Error(), false)
	}
	return names
}

// ruleIDs are the IDs of the pending proposal of args[0] not yet on the
// comma-separated list being typed, each with its rule as the description.
func ruleIDs(g *globalOptions, cmd *cobra.Command, args []string, toComplete string) []string {
	if len(args) == 0 {
		return nil
	}
	profileFile, _ := cmd.Flags().GetString("profile-file")
	_, prop, err := loadPending(g, args[0], profileFile)
	if err != nil {
		cobra.CompDebugln(err.Error(), false)
		return nil
	}
	typed := ""
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		typed = toComplete[:i+1]
	}
	have := map[string]bool{}
	for _, id := range strings.Split(typed, ",") {
		have[id] = true
	}
	var out []string
	for _, r := range prop.Rules {
		if have[r.ID] {
			continue
		}
		desc := r.Text
		if r.Severity >= 0 {
			desc = fmt.Sprintf("%s (sev %d)", r.Text, r.Severity)
		}
		out = append(out, typed+r.ID+"\t"+desc)
	}
	return out
}

// revisions are the revision numbers of args[0], newest first, each with
// its reason and mode.
func revisions(g *globalOptions, args []string) []string {
	if len(args) == 0 {
		return nil
	}
	revs, err := (&store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}).Revisions(args[0])
	if err != nil {
		cobra.CompDebugln(err.Error(), false)
		return nil
	}
	var out []string
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		out = append(out, strconv.Itoa(r.N)+"\t"+r.Reason+", "+r.Mode)
	}
	return out
}
