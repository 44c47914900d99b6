package audit

import "strings"

// AppArmor 2.0-2.2 kernels (type=APPARMOR, 1500) wrote prose records:
//
//	REJECTING r access to /bin/df (sh(7902) profile /usr/sbin/httpd2-prefork active SYSINFO)
//	PERMITTING link access from /a to /b (ln(1) profile /p active /p)
//	AUDITING mr access to /lib/ld-2.4.so (...)
//	LOGPROF-HINT fork pid=27764 child=38229 profile=/p active=/p
//
// Neither libapparmor nor aa-flow decodes them (libapparmor's test_multi
// calls every one AA_RECORD_INVALID): prose is not the key=value form the
// kernel has written since, and no kernel a current AppArmor runs on writes
// it. They are still told apart from other text: a line of this form is
// the kernel's record, one that cannot be read, so it is reported as
// malformed (and the gate counts the evidence as incomplete) rather than
// skipped as not AppArmor's.

var oldVerbs = [...]string{"REJECTING ", "PERMITTING ", "AUDITING ", "LOGPROF-HINT "}

func isOldVerb(s string) bool {
	for _, v := range oldVerbs {
		if strings.HasPrefix(s, v) {
			return true
		}
	}
	return false
}

// oldRecordError is the error for a 2.x prose record body s at byte off of
// the line.
func oldRecordError(s string, off int) error {
	if isOldVerb(s) {
		return &ParseError{Column: off + 1, Msg: "an AppArmor 2.0-2.2 prose record (" + strings.TrimSpace(s[:strings.IndexByte(s, ' ')]) + " ...): not decoded, as libapparmor does not"}
	}
	return &ParseError{Column: off + 1, Msg: "a type=APPARMOR (1500) record without apparmor= or a 2.x verb"}
}
