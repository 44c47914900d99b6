// Command cxsvc is a service that runs a helper program, for the e2e
// scenario child-exec: learned with --child, the helper runs in a child
// profile of the service's (cx), and each keeps its own rules.
//
//	cxsvc           read /etc/cxsvc/svc.conf, run the helper it names, check what it wrote
//	cxsvc peek      the same, with the helper reading the service's own /etc/cxsvc/svc.conf
//	cxsvc own-peek  read the helper's /etc/cxsvc/helper.conf in the service itself
//	cxsvc helper    (the helper) read /etc/cxsvc/helper.conf, write /var/lib/cxsvc/out
package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
)

const (
	svcConf    = "/etc/cxsvc/svc.conf"
	helperConf = "/etc/cxsvc/helper.conf"
	out        = "/var/lib/cxsvc/out"
)

func main() {
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	var err error
	switch mode {
	case "", "peek":
		err = service(mode)
	case "own-peek":
		_, err = os.ReadFile(helperConf)
	case "helper":
		err = helper()
	case "helper-peek":
		_, err = os.ReadFile(svcConf)
	default:
		err = fmt.Errorf("unknown mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "cxsvc:", err)
		os.Exit(1)
	}
}

// service reads its configuration (HELPER=path), runs the helper and
// checks its output.
func service(mode string) error {
	helperPath, err := conf(svcConf, "HELPER")
	if err != nil {
		return err
	}
	arg := "helper"
	if mode == "peek" {
		arg = "helper-peek"
	}
	cmd := exec.Command(helperPath, arg)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("helper %s %s: %w", helperPath, arg, err)
	}
	if mode == "peek" {
		return nil
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	fmt.Printf("cxsvc: the helper wrote %q\n", strings.TrimSpace(string(b)))
	return nil
}

// helper writes the greeting its configuration names.
func helper() error {
	greeting, err := conf(helperConf, "GREETING")
	if err != nil {
		return err
	}
	return os.WriteFile(out, []byte(greeting+"\n"), 0o644)
}

// conf is the value of KEY=VALUE in file.
func conf(file, key string) (string, error) {
	f, err := os.Open(file)
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+"="); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("%s: no %s=", file, key)
}
