package propose_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// One answer to "is this record the profile's, and whose rules does it
// need?" for learn, the gate and status.
func TestRoute(t *testing.T) {
	tests := []struct {
		label, name string
		sub         string
		ok          bool
	}{
		{"web", "web", "web", true},
		{"web//hat", "web", "web//hat", true},
		{"web//null-/usr/bin/helper", "web", "web", true},
		{"web//hat//null-/bin/sh//null-/bin/ls", "web", "web//hat", true},
		{"webby", "web", "", false},
		{"web/", "web", "", false},
		{"other//web", "web", "", false},
		{"docker-default//&web", "web", "web", true},
		{":ns:web//&other", "web", "", false}, // another namespace
		{"other//&:ns:web", "web", "", false},
		{"docker-default//&web//null-/bin/x", "web", "web", true},
		{"docker-default//&other", "web", "", false},
		{"", "web", "", false},
		{"web", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.label+" in "+tt.name, func(t *testing.T) {
			sub, ok := propose.Route(tt.label, tt.name)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.sub, sub)
		})
	}
}

// One record, its accesses: the fields mean what policy.Access documents
// (a mount's mount point in Path, its source in Target), and one class
// vocabulary.
func TestAccesses(t *testing.T) {
	tests := []struct {
		name string
		e    audit.Event
		want []policy.Access
	}{
		{"mount", audit.Event{Operation: "mount", Class: "mount", Name: "/mnt/", SrcName: "/dev/sdb1", Fstype: "ext4", Flags: "ro, nosuid"},
			[]policy.Access{{Class: policy.ClassMount, Path: "/mnt/", Target: "/dev/sdb1", Fstype: "ext4", Flags: []string{"ro", "nosuid"}}}},
		{"remount", audit.Event{Operation: "mount", Class: "mount", Name: "/", Flags: "remount, ro"},
			[]policy.Access{{Class: policy.ClassRemount, Path: "/", Flags: []string{"remount", "ro"}}}},
		{"umount", audit.Event{Operation: "umount", Class: "mount", Name: "/mnt/"},
			[]policy.Access{{Class: policy.ClassUmount, Path: "/mnt/"}}},
		{"pivot_root", audit.Event{Operation: "pivotroot", Class: "mount", Name: "/new/", SrcName: "/new/old/"},
			[]policy.Access{{Class: policy.ClassPivotRoot, Path: "/new/", Target: "/new/old/"}}},
		{"capability", audit.Event{Operation: "capable", Capname: "CAP_NET_RAW"},
			[]policy.Access{{Class: policy.ClassCapability, Capability: "net_raw"}}},
		{"unix", audit.Event{Operation: "connect", Class: "net", Family: "unix", SockType: "stream", RequestedMask: "send connect", Addr: "none", PeerAddr: "@x"},
			[]policy.Access{{Class: policy.ClassUnix, SockType: "stream", Access: []string{"send", "connect"}, PeerAddr: "@x"}}},
		{"link and write", audit.Event{Operation: "link", Name: "/a", Target: "/b", RequestedMask: "lw", FSUID: 1, OUID: 1},
			[]policy.Access{{Class: policy.ClassLink, Path: "/a", Target: "/b", Perms: "l", Owner: true}, {Class: policy.ClassFile, Path: "/a", Perms: "w", Owner: true}}},
		{"exec", audit.Event{Operation: "exec", Name: "/bin/x", Target: "svc//null-/bin/x", RequestedMask: "x"},
			[]policy.Access{{Class: policy.ClassFile, Path: "/bin/x", Perms: "x"}}},
		{"signal to a folded child", audit.Event{Operation: "signal", Class: "signal", RequestedMask: "send", Signal: "term", Peer: "svc//null-/bin/x"},
			[]policy.Access{{Class: policy.ClassSignal, Access: []string{"send"}, Signal: "term", Peer: "svc"}}},
		{"userns", audit.Event{Operation: "userns_create", Class: "namespace", RequestedMask: "userns_create", DeniedMask: "userns_create"},
			[]policy.Access{{Class: policy.ClassUserns, Access: []string{"create"}}}},
		{"forged words", audit.Event{Operation: "open", Name: "/a", RequestedMask: "r,w"}, nil},
		{"optional", audit.Event{Operation: "capable", Capname: "net_admin", Info: propose.OptionalInfo}, nil},
		{"status", audit.Event{Operation: "profile_load", Mode: audit.ModeStatus, Name: "/x"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, propose.Accesses(&tt.e, "svc"))
		})
	}
}

// Complain mode's null- child of a program goes where the program's exec
// rule runs it (Router.Exec): the parent for ix, a child for cx, none of
// the profile's for px; each null- part of a nested label in turn.
func TestRouterExec(t *testing.T) {
	exec := func(profile, program string) string {
		switch program {
		case "/usr/bin/cx":
			return profile + "//" + program
		case "/usr/bin/named":
			return profile + "//helper"
		case "/usr/bin/px":
			return ""
		}
		return profile
	}
	tests := []struct {
		label, sub string
		ok         bool
	}{
		{"web//null-/usr/bin/ix", "web", true},
		{"web//null-/usr/bin/cx", "web///usr/bin/cx", true},
		{"web//null-/usr/bin/named", "web//helper", true},
		{"web//null-/usr/bin/px", "", true},
		{"web//hat//null-/usr/bin/cx", "web//hat///usr/bin/cx", true},
		{"web//null-/usr/bin/cx//null-/usr/bin/ix", "web///usr/bin/cx", true},
		{"web//null-/usr/bin/ix//null-/usr/bin/cx", "web///usr/bin/cx", true},
		{"web//null-/usr/bin/px//null-/usr/bin/cx", "", true},
		{"docker-default//&web//null-/usr/bin/cx", "web///usr/bin/cx", true},
		{"web///usr/bin/cx", "web///usr/bin/cx", true}, // the child, once loaded
		{"web//null-2d", "web//null-2d", true},         // a learning hat's counter name
		{"other//null-/usr/bin/cx", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			sub, ok := propose.Router{Name: "web", Exec: exec}.Route(tt.label)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.sub, sub)
		})
	}
	// A signal's peer is routed the same way.
	e := audit.Event{Operation: "signal", Class: "signal", RequestedMask: "send", Signal: "term", Peer: "web//null-/usr/bin/cx"}
	assert.Equal(t, "web///usr/bin/cx", propose.Router{Name: "web", Exec: exec}.AppendAccesses(nil, &e)[0].Peer)
	assert.Equal(t, "web", propose.Accesses(&e, "web")[0].Peer)
}
