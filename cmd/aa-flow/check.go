package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/harden"
	"github.com/aa-flow/aa-flow/kernel"
)

func newCheckCmd(g *globalOptions) *cobra.Command {
	var (
		inspectFile, composeFile, infoFile, dockerBin string
		noKernel                                      bool
	)
	cmd := &cobra.Command{
		Use:   "check CONTAINER... | --inspect FILE|- | --compose FILE",
		Short: "Check containers against the hardening runbook: AppArmor, seccomp, capabilities, limits",
		Long: `check judges each container, one line per layer of the hardening runbook
and lesson, with the fix for every line that does not pass:

  AppArmor profile named for the application (not docker-default, unconfined
  or empty), and loaded in enforce mode where the kernel can be asked;
  seccomp not unconfined (Docker's default is a baseline warning);
  not --privileged; no-new-privileges; --cap-drop ALL with the adds listed;
  read-only root filesystem; non-root user; --pids-limit; a memory limit;
  the Docker socket not mounted; user-namespace remapping (advice, where
  docker info can say).

CONTAINER... runs docker inspect (and docker info); --inspect reads the JSON
docker inspect printed (for CI, or hosts without the docker CLI); --compose
reads the services of a Compose file. Exit 0 when every required item of
every container passes, 1 otherwise.`,
		Example: `  aa-flow check payment-api
  docker inspect payment-api | aa-flow check --inspect -
  aa-flow check --compose compose.yaml --no-kernel --json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			sources := 0
			for _, on := range []bool{len(args) > 0, inspectFile != "", composeFile != ""} {
				if on {
					sources++
				}
			}
			if sources != 1 {
				return usagef("check needs containers, or --inspect FILE, or --compose FILE (exactly one)")
			}
			var (
				settings []harden.Settings
				err      error
				host     harden.Host
			)
			switch {
			case len(args) > 0:
				out, derr := runDocker(dockerBin, append([]string{"inspect", "--type", "container"}, args...)...)
				if derr != nil {
					return derr
				}
				settings, err = harden.FromInspect(out)
				if infoFile == "" {
					if info, ierr := runDocker(dockerBin, "info", "--format", "{{json .}}"); ierr == nil {
						host.UsernsRemap = usernsFrom(info)
					}
				}
			case inspectFile != "":
				var b []byte
				if b, err = readFileOrStdin(g, inspectFile); err == nil {
					settings, err = harden.FromInspect(b)
				}
				if err != nil {
					err = fmt.Errorf("--inspect %s: %w", inspectFile, err)
				}
			default:
				var b []byte
				if b, err = os.ReadFile(composeFile); err == nil {
					settings, err = harden.FromCompose(b, composeFile)
				}
			}
			if err != nil {
				return err
			}
			if infoFile != "" {
				b, err := os.ReadFile(infoFile)
				if err != nil {
					return err
				}
				if _, _, err := harden.UsernsFromInfo(b); err != nil {
					return fmt.Errorf("--info %s: %w", infoFile, err)
				}
				host.UsernsRemap = usernsFrom(b)
			}
			if !noKernel {
				k := &kernel.FS{Securityfs: g.Securityfs}
				host.ProfileMode = k.Mode
			}
			reports := make([]harden.Report, 0, len(settings))
			ok := true
			for _, s := range settings {
				r := harden.Check(s, host)
				ok = ok && r.OK
				reports = append(reports, r)
			}
			if g.JSON {
				enc := json.NewEncoder(g.Out)
				enc.SetIndent("", "  ")
				err = enc.Encode(struct {
					OK         bool            `json:"ok"`
					Containers []harden.Report `json:"containers"`
				}{ok, reports})
			} else {
				err = harden.WriteText(g.Out, reports)
			}
			if err != nil {
				return err
			}
			if !ok {
				return exitWith(exitError)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&inspectFile, "inspect", "", "read docker inspect JSON from FILE (- for stdin)")
	f.StringVar(&composeFile, "compose", "", "check the services of a Compose file")
	f.StringVar(&infoFile, "info", "", "read docker info --format '{{json .}}' from FILE (user-namespace remapping)")
	f.StringVar(&dockerBin, "docker", "docker", "the docker CLI")
	f.BoolVar(&noKernel, "no-kernel", false, "do not ask this host's kernel whether the AppArmor profile is loaded (settings from another host)")
	return cmd
}

// usernsFrom answers the user-namespace question from docker info JSON.
func usernsFrom(info []byte) func() (bool, bool) {
	return func() (bool, bool) {
		on, known, err := harden.UsernsFromInfo(info)
		return on, known && err == nil
	}
}

// runDocker runs the docker CLI and returns its standard output; its
// standard error is in the error.
func runDocker(bin string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	c := exec.Command(bin, args...)
	c.Stdout, c.Stderr = &out, &errb
	if err := c.Run(); err != nil {
		return nil, fmt.Errorf("%s %s: %w: %s", bin, args[0], err, bytes.TrimSpace(errb.Bytes()))
	}
	return out.Bytes(), nil
}

// readFileOrStdin reads a file, or the command's input for "-".
func readFileOrStdin(g *globalOptions, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(g.In)
	}
	return os.ReadFile(name)
}
