package propose_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/kernel"
	"github.com/aa-flow/aa-flow/parser"
	"github.com/aa-flow/aa-flow/policy"
	"github.com/aa-flow/aa-flow/propose"
)

// Fine-grained inet records (test_multi's, from AppArmor's regression
// tests on a kernel that mediates addresses): under an abi with that
// mediation the rule names the address and port asked about (saddr=/src=,
// and the peer's daddr=/dest=), as aa-logprof does, and covers only them;
// under abi/4.0, which cannot name addresses, the rule is the family and
// type alone. (AppArmor 4.1's parser accepts these rules; the host's 3.0.8
// does not, so they are not compiled here.)
func TestProposeNetworkAddresses(t *testing.T) {
	abi40, err := kernel.ReadFeaturesFile(testutil.Corpus(t, "abi", "4.0"))
	require.NoError(t, err)
	fine := kernel.Features{"network_v9/af_inet": "yes"}
	dir := testutil.Corpus(t, "libapparmor-test_multi")
	tests := []struct {
		name, rule, plain string
		access, not       policy.Access
	}{
		{"testcase_network_07", "network inet dgram ip=127.0.97.3 port=3456,", "network inet dgram,",
			policy.Access{Class: policy.ClassNetwork, Family: "inet", SockType: "dgram", Path: "127.0.97.3", Port: "3456"},
			policy.Access{Class: policy.ClassNetwork, Family: "inet", SockType: "dgram", Path: "0.0.0.0", Port: "3456"}},
		{"testcase_network_09", "network inet dgram ip=127.187.243.54 port=3457 peer=(ip=127.0.97.3 port=3456),", "network inet dgram,",
			policy.Access{Class: policy.ClassNetwork, Family: "inet", SockType: "dgram", Path: "127.187.243.54", Port: "3457", PeerAddr: "127.0.97.3", PeerPort: "3456"},
			policy.Access{Class: policy.ClassNetwork, Family: "inet", SockType: "dgram", Path: "127.187.243.54", Port: "3457", PeerAddr: "10.0.0.1", PeerPort: "3456"}},
		{"testcase_network_10", "network inet6 dgram ip=fd74:1820:b03a:b361::cf32 port=3456,", "network inet6 dgram,",
			policy.Access{Class: policy.ClassNetwork, Family: "inet6", SockType: "dgram", Path: "fd74:1820:b03a:b361::cf32", Port: "3456"},
			policy.Access{Class: policy.ClassNetwork, Family: "inet6", SockType: "dgram", Path: "fd74:1820:b03a:b361::cf32", Port: "80"}},
		{"testcase_network_12", "network inet6 dgram ip=::ffff:127.0.0.1 port=53131,", "network inet6 dgram,",
			policy.Access{Class: policy.ClassNetwork, Family: "inet6", SockType: "dgram", Path: "::ffff:127.0.0.1", Port: "53131"},
			policy.Access{Class: policy.ClassNetwork, Family: "inet6", SockType: "dgram"}},
		// a 2.x-era record: laddr/lport are the socket's, not an address
		// the kernel judged, so the rule names none
		{"testcase_network_01", "network inet stream,", "network inet stream,",
			policy.Access{Class: policy.ClassNetwork, Family: "inet", SockType: "stream"}, policy.Access{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := os.ReadFile(filepath.Join(dir, tt.name+".in"))
			require.NoError(t, err)
			evs := decodeAll(in, tt.name)
			require.Len(t, evs, 1)
			name := evs[0].ProfileName()
			f, err := parser.Parse("t", []byte("profile "+name+" {\n}\n"))
			require.NoError(t, err)
			prop, err := propose.Propose(f, name, evs, propose.ProposeOptions{ABI: "abi/5.0", ABIFeatures: fine})
			require.NoError(t, err)
			require.Equal(t, []string{tt.rule}, texts(prop))

			learned, err := parser.Parse("learned", []byte("profile "+name+" {\n  "+tt.rule+"\n}\n"))
			require.NoError(t, err)
			pol, err := policy.NewPolicy(learned, name, nil)
			require.NoError(t, err)
			assert.True(t, pol.Covers(tt.access))
			if tt.not.Class != "" {
				assert.False(t, pol.Covers(tt.not))
			}

			for _, opts := range []propose.ProposeOptions{{ABI: "abi/4.0", ABIFeatures: abi40}, {}} {
				prop, err = propose.Propose(f, name, evs, opts)
				require.NoError(t, err)
				assert.Equal(t, []string{tt.plain}, texts(prop), "abi %q", opts.ABI)
			}
		})
	}
}
