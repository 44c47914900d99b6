package aaparser

import (
	"context"
	"fmt"
	"strings"
)

// Version runs apparmor_parser --version and returns the version it names
// ("3.0.8" from "AppArmor parser version 3.0.8").
func (r *Runner) Version(ctx context.Context) (string, error) {
	run := r.Exec
	if run == nil {
		run = SystemExec
	}
	out, stderr, err := run(ctx, r.bin(), []string{"--version"}, nil)
	if err != nil {
		return "", &Error{Op: "--version", Stderr: cleanStderr(stderr), Err: err}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	const prefix = "AppArmor parser version "
	v, ok := strings.CutPrefix(strings.TrimSpace(first), prefix)
	if !ok || v == "" {
		return "", fmt.Errorf("%s --version: %q does not name a version (want %q)", r.bin(), first, prefix+"N")
	}
	return v, nil
}
