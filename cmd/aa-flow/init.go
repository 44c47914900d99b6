package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/templates"
)

// starterABI is the abi a new profile pins: pinned, when given, or the
// newest abi file the parser's version ships (kernel.ChooseABI).
func starterABI(ctx context.Context, g *globalOptions, pinned string) (string, error) {
	files, err := kernel.NumberedABIs(abiDir(g))
	if err != nil {
		return "", err
	}
	return kernel.ChooseABI(files, parserState(ctx, g).Version, pinned)
}

// newHost is the host the global flags describe; changes are reported on
// g.Out, and with dryRun only reported.
func newHost(g *globalOptions, dryRun bool) *rollout.Host {
	h := rollout.NewHost(g.ProfileDir, g.StateDir, g.Parser, g.Securityfs)
	h.AuditStatus = g.AuditStatus
	h.DryRun = dryRun
	h.Log = g.Out
	switch {
	case g.JSON:
		h.Log = g.logw() // standard output holds the JSON document
	case g.Quiet && !dryRun:
		h.Log = io.Discard
	}
	return h
}

func newInitCmd(g *globalOptions) *cobra.Command {
	var (
		exe, tmpl, file   string
		abi               string
		force, adopt, dry bool
		noLoad            bool
	)
	cmd := &cobra.Command{
		Use:   "init NAME --exec PATH",
		Short: "Create a starter profile in complain mode (or adopt an existing one)",
		Long: `init writes a starter profile for NAME from an embedded template, validates it
with apparmor_parser, stores it as revision 1 and loads it in complain mode: the
service keeps running unhindered while the kernel logs everything the profile
does not allow yet.

Templates:
  service    a daemon: base and nameservice abstractions, the binary (default)
  script     a script: its interpreter (from the #! line) and abstraction
  container  a container run by name (--security-opt apparmor=NAME)
  minimal    only the base abstraction and the binary

The profile pins the abi of the parser it finds (abi <abi/4.0>, with AppArmor
4's parser; abi <abi/3.0> with 3's): the newest numbered abi file in
--profile-dir/abi (else /etc/apparmor.d/abi) that the parser's version ships.
--abi pins another one of those files. learn then proposes no rule that abi
cannot express.

The profile includes local/NAME if it exists, for site-specific rules.
init refuses to replace an existing profile file unless --force (the old text
is kept as a revision). --adopt takes an existing profile file under
aa-flow's management as it is.`,
		Example: `  aa-flow init nginx --exec /usr/sbin/nginx
  aa-flow init backup --exec /usr/local/bin/backup.py --template script
  aa-flow init myapp --template container --no-load
  aa-flow init web --exec /usr/sbin/nginx --abi 3.0
  aa-flow init dnsmasq --adopt --file /etc/apparmor.d/usr.sbin.dnsmasq`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			h := newHost(g, dry)
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			path := file
			if path == "" {
				p, err := h.Store.DefaultProfilePath(name)
				if err != nil {
					return usagef("%v", err)
				}
				path = p
			}
			if adopt {
				if exe != "" || force || abi != "" {
					return usagef("--adopt takes the file as it is: --exec, --force and --abi do not apply")
				}
				r, err := h.Adopt(ctx, name, path)
				if err != nil {
					return err
				}
				return g.done(actionResult{Profile: name, Action: "adopted", Loaded: false, Revision: &r},
					"%s: adopted %s as revision %d (%s mode); aa-flow now manages it\n", name, path, r.N, r.Mode)
			}
			if tmpl == "" {
				tmpl = "service"
			}
			if !slices.Contains(templates.StarterTemplates(), tmpl) {
				return usagef("--template %q: no such template (%s)", tmpl, strings.Join(templates.StarterTemplates(), ", "))
			}
			if exe == "" && tmpl != "container" {
				return usagef("init needs --exec PATH, the binary the profile confines (or --template container)")
			}
			if exe != "" && !filepath.IsAbs(exe) {
				return usagef("--exec %q: give the absolute path", exe)
			}
			pinned, err := starterABI(ctx, g, abi)
			if errors.Is(err, kernel.ErrUnknownABI) {
				return usagef("--abi: %v", err)
			}
			if err != nil {
				return err
			}
			s := templates.Starter{Template: tmpl, Name: name, Exec: exe, Local: filepath.Base(path), ABI: pinned}
			if tmpl == "script" {
				if err := templates.ReadShebang(&s, parser.ForProfileDir(g.ProfileDir).Dirs...); err != nil {
					return err
				}
			} else if exe != "" {
				if _, err := os.Stat(exe); errors.Is(err, fs.ErrNotExist) {
					if !force {
						return fmt.Errorf("--exec %s: no such program on this host (check the path, or --force to write the profile anyway)", exe)
					}
					g.warn("%s does not exist on this host", exe)
				}
			}
			src, err := templates.RenderStarter(s)
			if err != nil {
				return err
			}
			r, err := h.Create(ctx, name, path, exe, src, force, !noLoad)
			if err != nil {
				return err
			}
			if sub, enabled := h.Store.BootSubdir(path); !enabled && !g.Quiet {
				g.note("apparmor.service loads only the top profile directory; to load %s/ at boot: systemctl enable aa-flow-profiles@%s.service", sub, sub)
			}
			verb := "created"
			if dry {
				verb = "would create"
			}
			loaded := "loaded in the kernel"
			if noLoad {
				loaded = "not loaded (--no-load)"
			}
			return g.done(actionResult{Profile: name, Action: "created", DryRun: dry, Loaded: !noLoad && !dry, Revision: &r},
				"%s: %s %s (revision %d, %s mode), %s\nnext: run the workload, then `aa-flow learn %s`\n", name, verb, path, r.N, r.Mode, loaded, name)
		},
	}
	f := cmd.Flags()
	f.StringVar(&exe, "exec", "", "the binary (or script) the profile confines, absolute path")
	f.StringVar(&tmpl, "template", "service", "starter template: "+strings.Join(templates.StarterTemplates(), ", "))
	f.StringVar(&file, "file", "", "the profile file (default: --profile-dir/NAME, slashes as dots)")
	f.BoolVar(&force, "force", false, "replace an existing profile file (its text is kept as a revision); accept an --exec program this host does not have")
	f.BoolVar(&adopt, "adopt", false, "manage an existing profile file as it is")
	f.BoolVar(&noLoad, "no-load", false, "write the file but do not load it")
	f.StringVar(&abi, "abi", "", "the abi the profile pins, one of the parser's abi files (3.0, 4.0; default: the newest the parser ships)")
	f.BoolVar(&dry, "dry-run", false, "print each file write and apparmor_parser command, change nothing")
	return cmd
}
