# shellcheck shell=sh
# /e2e/checks.sh: the guest's independent checks, as filters over text, so
# they are tested on the host too (e2e/checks_test.go). Sourced by /e2e/flow.

# broad_rules FILE: print (with line numbers) every rule in a learned profile
# that is broader than any evidence can justify: the whole filesystem (/**,
# /*) or a whole top-level tree (/etc/**, /usr/**), or a bare capability,
# network, file, signal, ptrace, unix, dbus or mount rule.
broad_rules() {
	sed 's/#.*//' "$1" | grep -nE '(^|[[:space:]"])/(\*\*?|[^/[:space:]"]*/\*\*)["[:space:]]|^[[:space:]]*((audit|allow)[[:space:]]+)?(capability|network|file|signal|ptrace|unix|dbus|mount)[[:space:]]*,'
}

# mode_in NAME PROFILES: the mode the kernel's profile list (the text of
# /sys/kernel/security/apparmor/profiles) gives NAME; empty if not loaded.
mode_in() {
	sed -n "s|^$1 (\\([a-z]*\\))\$|\\1|p" "$2" | head -n1
}

# json_mode: the mode in `aa-flow status NAME --json` on stdin: the first of
# "kernel_mode", "mode" found.
json_mode() {
	tr -d ' \n\t' | sed -n 's/.*"kernel_mode":"\([a-z]*\)".*/\1/p; t; s/.*"mode":"\([a-z]*\)".*/\1/p' | head -n1
}

# count_denied NAME: the DENIED records on stdin for the profile NAME, its
# hats and children (profile="NAME" or profile="NAME//...").
count_denied() {
	grep 'apparmor="DENIED"' | grep -c "profile=\"$1[\"/]"
}
