package propose_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// AppArmor 4.x's record classes, in the forms kernels write them (the
// records of AppArmor's own utils tests, and 6.12's class= before
// profile=): each becomes the rule apparmor.d(5) of AppArmor 4.1 has, the
// learned profile covers the access it came from and no other, and under
// abi/4.0 the rule is set aside exactly when that abi lacks the class.
// (AppArmor 4.1's apparmor_parser accepts every rule below; the host's
// 3.0.8 parser knows none of io_uring, mqueue and userns, so the profile
// is not compiled here.)
func TestPropose4xClasses(t *testing.T) {
	abi40, err := kernel.ReadFeaturesFile(testutil.Corpus(t, "abi", "4.0"))
	require.NoError(t, err)
	tests := []struct {
		name    string
		line    string
		rule    string
		access  policy.Access
		not     policy.Access // a neighbour the rule must not allow
		beyond4 bool          // abi/4.0 cannot express it
	}{
		{
			name:    "io_uring sqpoll",
			line:    `[ 4584.703379] audit: type=1400 audit(1680266735.359:69): apparmor="DENIED" operation="uring_sqpoll" class="io_uring" profile="/root/io_uring" pid=1320 comm="io_uring" requested="sqpoll" denied="sqpoll"`,
			rule:    "io_uring sqpoll,",
			access:  policy.Access{Class: policy.ClassIOUring, Access: []string{"sqpoll"}},
			not:     policy.Access{Class: policy.ClassIOUring, Access: []string{"override_creds"}, Peer: "unconfined"},
			beyond4: true,
		},
		{
			name:    "io_uring override_creds",
			line:    `[ 4584.491076] audit: type=1400 audit(1680266735.147:63): apparmor="DENIED" operation="uring_override" class="io_uring" profile="/root/io_uring" pid=1193 comm="io_uring" requested="override_creds" denied="override_creds" tcontext="/usr/sbin/helper"`,
			rule:    "io_uring override_creds label=/usr/sbin/helper,",
			access:  policy.Access{Class: policy.ClassIOUring, Access: []string{"override_creds"}, Peer: "/usr/sbin/helper"},
			not:     policy.Access{Class: policy.ClassIOUring, Access: []string{"override_creds"}, Peer: "unconfined"},
			beyond4: true,
		},
		{
			name:   "posix mqueue create",
			line:   `Apr 05 19:36:19 ubuntu kernel: audit: type=1400 audit(1649187379.660:255): apparmor="DENIED" operation="create" profile="/root/posix_mq_rcv" name="/queuename" pid=791 comm="posix_mq_rcv" requested="create" denied="create" class="posix_mqueue" fsuid=0 ouid=0`,
			rule:   "mqueue create type=posix /queuename,",
			access: policy.Access{Class: policy.ClassMqueue, SockType: "posix", Path: "/queuename", Access: []string{"create"}},
			not:    policy.Access{Class: policy.ClassMqueue, SockType: "posix", Path: "/other", Access: []string{"create"}},
		},
		{
			name:   "posix mqueue read, 6.12 order",
			line:   `type=AVC msg=audit(1796589291.212:390): apparmor="DENIED" operation="open" class="posix_mqueue" profile="/root/posix_mq_rcv" name="/queuename" pid=848 comm="posix_mq_rcv" requested="read create" denied="read" fsuid=0 ouid=0`,
			rule:   "mqueue read type=posix /queuename,",
			access: policy.Access{Class: policy.ClassMqueue, SockType: "posix", Path: "/queuename", Access: []string{"read"}},
			not:    policy.Access{Class: policy.ClassMqueue, SockType: "posix", Path: "/queuename", Access: []string{"write"}},
		},
		{
			name:   "userns",
			line:   `[  176.385388] audit: type=1400 audit(1666891380.570:78): apparmor="DENIED" operation="userns_create" class="namespace" profile="/usr/bin/userns_child_exec" pid=1785 comm="userns_child_ex" requested="userns_create" denied="userns_create"`,
			rule:   "userns create,",
			access: policy.Access{Class: policy.ClassUserns, Access: []string{"create"}},
		},
		{
			name:   "unix peer address",
			line:   `type=AVC msg=audit(1711454639.955:322): apparmor="DENIED" operation="connect" class="net" profile="/home/user/test/client.py" pid=80819 comm="client.py" family="unix" sock_type="stream" protocol=0 requested="send receive connect" denied="send receive connect" addr=none peer_addr="@test_abstract_socket" peer="/home/user/test/server.py"`,
			rule:   "unix (connect, receive, send) type=stream peer=(addr=@test_abstract_socket),",
			access: policy.Access{Class: policy.ClassUnix, SockType: "stream", PeerAddr: "@test_abstract_socket", Access: []string{"connect", "send", "receive"}},
			not:    policy.Access{Class: policy.ClassUnix, SockType: "stream", PeerAddr: "@other", Access: []string{"connect"}},
		},
		{
			name:   "unix own address",
			line:   `type=AVC msg=audit(1711214183.107:298): apparmor="DENIED" operation="connect" class="net" profile="/home/user/test/client.py" pid=65262 comm="server.py" family="unix" sock_type="stream" protocol=0 requested="send receive accept" denied="send accept" addr="@test_abstract_socket" peer_addr=none peer="unconfined"`,
			rule:   "unix (accept, send) type=stream addr=@test_abstract_socket,",
			access: policy.Access{Class: policy.ClassUnix, SockType: "stream", Path: "@test_abstract_socket", Access: []string{"accept", "send"}},
			not:    policy.Access{Class: policy.ClassUnix, SockType: "stream", Path: "@test_abstract_socket", Access: []string{"receive"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := decodeAll([]byte(tt.line), "kern.log")
			require.Len(t, evs, 1)
			e := evs[0]
			assert.NotEmpty(t, e.Class, "class= is read")
			name := e.ProfileName()
			src := "profile " + name + " {\n}\n"
			out, prop := learnInto(t, src, name, evs, propose.ProposeOptions{})
			assert.Equal(t, []string{tt.rule}, texts(prop))
			f, err := parser.Parse("learned", []byte(out))
			require.NoError(t, err)
			pol, err := policy.NewPolicy(f, name, nil)
			require.NoError(t, err)
			assert.True(t, pol.Covers(tt.access), "learned:\n%s", out)
			if tt.not.Class != "" {
				assert.False(t, pol.Covers(tt.not), "learned:\n%s", out)
			}

			prop, err = propose.Propose(nil, name, evs, propose.ProposeOptions{ABI: "abi/4.0", ABIFeatures: abi40})
			require.NoError(t, err)
			if tt.beyond4 {
				assert.Empty(t, texts(prop))
				require.Len(t, prop.Warnings, 1)
				assert.Contains(t, prop.Warnings[0], "abi/4.0 has no io_uring rules (io_uring/mask)")
			} else {
				assert.Equal(t, []string{tt.rule}, texts(prop))
			}
		})
	}
}
