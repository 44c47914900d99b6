package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aa-flow/aa-flow/internal/logview"
)

// usageError marks a mistake in how the command was called (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return usageError{fmt.Sprintf(format, a...)} }

// exactArgs is cobra.ExactArgs with a usage error naming the command.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see %s --help)", cmd.Name(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// maxArgs is cobra.MaximumNArgs with a usage error naming the command.
func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usagef("%s takes at most %d argument(s), got %d (see %s --help)", cmd.Name(), n, len(args), cmd.CommandPath())
		}
		return nil
	}
}

// kernelRecordsHelp is the help's word, for the commands that read logs
// (learn, logs), on which lines count as the kernel's records; each goes on
// to say how the refused ones are reported.
const kernelRecordsHelp = `Only the kernel's records count. auditd's log, journald's kernel and audit
transports and /dev/kmsg show where a line came from; a syslog text file
(syslog, kern.log, messages) cannot: any program can log a line there, and
only lines tagged kernel: are read from it. A line counts only when the
message itself starts with the kernel's audit prefix (audit: type=1400
audit(...): apparmor=..., or auditd's type=AVC msg=audit(...): apparmor=...);
anything else that reads like a record (another program's syslog line, a
record inside another kernel message) is refused`

// sinceHelp is the help of every --since flag: the forms logview.ParseSince
// takes.
const sinceHelp = "only records since this long ago (90m, 2h, 3d) or this time (2026-11-22 10:00, RFC 3339, @UNIX)"

// parseSince is every command's --since: "" is no limit.
func parseSince(s string) (time.Time, error) {
	t, err := logview.ParseSince(s, time.Now())
	if err != nil {
		return time.Time{}, usagef("--since: %v", err)
	}
	return t, nil
}

// days is a duration flag that also takes whole days (3d), as --since does.
type days struct{ d *time.Duration }

func (v days) String() string {
	if v.d == nil {
		return "0s"
	}
	return v.d.String()
}

func (v days) Set(s string) error {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		if k, err := strconv.Atoi(n); err == nil && k >= 0 {
			*v.d = time.Duration(k) * 24 * time.Hour
			return nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 30m, 24h or 3d")
	}
	*v.d = d
	return nil
}

func (days) Type() string { return "duration" }
