package seccomp

import (
	"strconv"
	"strings"

	"github.com/aa-flow/aa-flow/audit"
)

// FromEvent converts an audit reader's SECCOMP event (type 1326) into a
// Record; ok is false for any other event, or one whose arch= or code= is
// not a hex number.
func FromEvent(e *audit.Event) (Record, bool) {
	if e.Type != audit.TypeSeccomp {
		return Record{}, false
	}
	r := Record{Time: e.Time, Syscall: e.Syscall, Comm: e.Comm, Exe: e.Exe, PID: e.PID, Source: e.Source, Line: e.Line}
	var archOK, codeOK bool
	for _, kv := range e.Extra {
		switch kv.Key {
		case "arch":
			v, err := strconv.ParseUint(kv.Value, 16, 32)
			r.Arch, archOK = uint32(v), err == nil
		case "code":
			v, err := strconv.ParseUint(strings.TrimPrefix(kv.Value, "0x"), 16, 32)
			r.Code, codeOK = uint32(v), err == nil
		case "subj":
			r.Subj = kv.Value
		}
	}
	return r, archOK && codeOK && e.Syscall >= 0
}

// SubjectProfile is the AppArmor profile in a record's subj= label:
// "web (enforce)" and "=web (enforce)" are both web.
func SubjectProfile(subj string) string {
	s := strings.TrimPrefix(subj, "=")
	if i := strings.LastIndex(s, " ("); i > 0 && strings.HasSuffix(s, ")") {
		s = s[:i]
	}
	return s
}

// OfProfile reports whether a record's subj= label is the profile name or
// one of its children (name//child): a container's processes run under
// its profile, and a program executed without an exec rule runs, in
// complain mode, under name//null-PATH (docker run --init's child of
// docker-init, a shell's command).
func OfProfile(subj, name string) bool {
	p := SubjectProfile(subj)
	return p == name || strings.HasPrefix(p, name+"//")
}

// Container is the filter learn and the gate apply to records when NAME
// is the container's AppArmor profile: the records of its profile and its
// children (OfProfile). runc's init's records, which come before the
// profile applies, are taken by Observation.Take once the same process is
// seen under the profile.
func Container(name string) func(Record) bool {
	return func(r Record) bool { return OfProfile(r.Subj, name) }
}

// RuntimeInit reports whether a record says it is runc's init inside the
// container (comm "runc:[2:INIT]"): it runs under the container's seccomp
// filter from the moment runc installs it until it executes the container's
// program, but not yet under the container's AppArmor profile, so its subj=
// is runc's own label. What it calls there (closing inherited descriptors,
// checking /proc) the learned profile must allow, or the container cannot
// start. A process sets its own comm, so this alone proves nothing: see
// Observation.Take.
func RuntimeInit(r Record) bool { return strings.HasPrefix(r.Comm, "runc:[") }
