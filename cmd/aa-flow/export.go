package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/seccomp"
	"github.com/aa-flow/aa-flow/store"
	"github.com/aa-flow/aa-flow/templates"
)

func newExportCmd(g *globalOptions) *cobra.Command {
	var (
		docker, compose, kube, systemd bool
		service, container, image      string
		seccompFile                    string
	)
	cmd := &cobra.Command{
		Use:   "export NAME --docker|--compose|--k8s|--systemd",
		Short: "Print the snippet that applies a profile to a container, pod or service",
		Long: `export prints what applies the profile to a workload, with the commands that
verify it took effect:

  --docker      docker run --security-opt apparmor=NAME
  --compose     security_opt: [apparmor=NAME]
  --k8s         securityContext.appArmorProfile (type Localhost), plus the
                annotation clusters before 1.30 read (--kubernetes works too)
  --systemd     a drop-in with AppArmorProfile=NAME

With a seccomp profile (the one aa-flow seccomp keeps for NAME, or
--seccomp FILE) the snippet applies it too: --security-opt seccomp=FILE,
security_opt seccomp=FILE, seccompProfile (type Localhost), and systemd's
SystemCallFilter= with the syscalls it allows.

It reads the profile file but needs no AppArmor kernel. The profile must be
loaded on every host that runs the workload.`,
		Example: `  aa-flow export myapp --docker --image registry.example/myapp:1.4
  aa-flow export myapp --k8s --service web --container app
  aa-flow export myapp --systemd --service myapp --seccomp ./seccomp.json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			kind := ""
			n := 0
			for k, on := range map[string]bool{"docker": docker, "compose": compose, "kubernetes": kube, "systemd": systemd} {
				if on {
					kind, n = k, n+1
				}
			}
			if n != 1 {
				return usagef("export needs exactly one of --docker, --compose, --k8s, --systemd")
			}
			st := &store.Store{ProfileDir: g.ProfileDir, StateDir: g.StateDir}
			path, err := st.ProfilePath(name)
			if errors.Is(err, store.ErrNotManaged) {
				// An unmanaged profile in the usual place is fine to export.
				if p, derr := st.DefaultProfilePath(name); derr == nil {
					if _, serr := os.Stat(p); serr == nil {
						path, err = p, nil
					}
				}
			}
			if err != nil {
				return err
			}
			src, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("export %s: %w", name, err)
			}
			e := templates.Export{
				Kind: kind, Name: name, ProfilePath: path, Mode: rollout.ModeOf(src, name),
				Service: service, Container: container, Image: image,
			}
			if err := exportSeccomp(st, name, seccompFile, &e); err != nil {
				return err
			}
			out, err := templates.RenderExport(e)
			if err != nil {
				return err
			}
			_, err = g.Out.Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&docker, "docker", false, "docker run flags")
	f.BoolVar(&compose, "compose", false, "docker compose service snippet")
	f.BoolVar(&kube, "k8s", false, "Kubernetes pod spec")
	f.BoolVar(&kube, "kubernetes", false, "Kubernetes pod spec (the same as --k8s)")
	f.BoolVar(&systemd, "systemd", false, "systemd unit drop-in")
	f.StringVar(&service, "service", "", "service / pod name in the snippet (default SERVICE)")
	f.StringVar(&container, "container", "", "container name in the snippet (default CONTAINER)")
	f.StringVar(&image, "image", "", "image in the snippet (default IMAGE)")
	f.StringVar(&seccompFile, "seccomp", "", "seccomp profile (Docker's JSON) to apply too (default: the one aa-flow seccomp keeps for NAME, if any)")
	return cmd
}

// exportSeccomp fills the seccomp part of e: from file when given, else
// from the profile aa-flow seccomp keeps for name when there is one.
func exportSeccomp(st *store.Store, name, file string, e *templates.Export) error {
	if file == "" {
		dir, err := st.Dir(name)
		if err != nil {
			return nil
		}
		p := filepath.Join(dir, seccomp.FileName)
		if _, err := os.Stat(p); err != nil {
			return nil
		}
		file = p
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("export %s: seccomp profile: %w", name, err)
	}
	p, err := seccomp.Parse(b)
	if err != nil {
		return fmt.Errorf("export %s: %s: %w", name, file, err)
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return err
	}
	e.SeccompPath = abs
	e.SeccompAllow = p.UnconditionalNames(seccomp.ActAllow)
	plain := map[string]bool{}
	for _, n := range e.SeccompAllow {
		plain[n] = true
	}
	for _, n := range p.Names(seccomp.ActAllow) {
		if !plain[n] {
			e.SeccompConditional = append(e.SeccompConditional, n)
		}
	}
	return nil
}
