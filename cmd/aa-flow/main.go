// Command aa-flow takes a Linux service from unconfined to an
// application-specific AppArmor profile in enforce mode, safely: it learns
// rules from the kernel's audit records, shows every rule it wants to add,
// and only enforces when the evidence says it is safe.
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
