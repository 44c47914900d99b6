package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/rollout"
	"github.com/aa-flow/aa-flow/store"
	"github.com/aa-flow/aa-flow/templates"
)

func newExportCmd(g *globalOptions) *cobra.Command {
	var (
		docker, compose, kube, systemd bool
		service, container, image      string
	)
	cmd := &cobra.Command{
		Use:   "export NAME --docker|--compose|--kubernetes|--systemd",
		Short: "Print the snippet that applies a profile to a container, pod or service",
		Long: `export prints what applies the profile to a workload, with the commands that
verify it took effect:

  --docker      docker run --security-opt apparmor=NAME
  --compose     security_opt: [apparmor=NAME]
  --kubernetes  securityContext.appArmorProfile (type Localhost), plus the
                annotation clusters before 1.30 read
  --systemd     a drop-in with AppArmorProfile=NAME

It reads the profile file but needs no AppArmor kernel. The profile must be
loaded on every host that runs the workload.`,
		Example: `  aa-flow export myapp --docker --image registry.example/myapp:1.4
  aa-flow export myapp --kubernetes --service web --container app`,
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
				return usagef("export needs exactly one of --docker, --compose, --kubernetes, --systemd")
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
			out, err := templates.RenderExport(templates.Export{
				Kind: kind, Name: name, ProfilePath: path, Mode: rollout.ModeOf(src, name),
				Service: service, Container: container, Image: image,
			})
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
	f.BoolVar(&kube, "kubernetes", false, "Kubernetes pod spec")
	f.BoolVar(&systemd, "systemd", false, "systemd unit drop-in")
	f.StringVar(&service, "service", "", "service / pod name in the snippet (default SERVICE)")
	f.StringVar(&container, "container", "", "container name in the snippet (default CONTAINER)")
	f.StringVar(&image, "image", "", "image in the snippet (default IMAGE)")
	return cmd
}
