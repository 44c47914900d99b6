package kernel

import (
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What each abi file of AppArmor 4.1 can express of the 4.x rule classes:
// abi/3.0 none of them, abi/4.0 userns and POSIX mqueue but not io_uring
// or network addresses. A kernel that lists io_uring can.
func TestMissingFor(t *testing.T) {
	read := func(name string) Features {
		f, err := ReadFeaturesFile(testutil.Corpus(t, "abi", name))
		require.NoError(t, err)
		return f
	}
	abi30, abi40 := read("3.0"), read("4.0")
	kernel612 := Features{"namespaces/mask": "userns_create", "io_uring/mask": "sqpoll override_creds", "ipc/posix_mqueue": "create read write open delete setattr getattr"}
	tests := []struct {
		class, kind string
		access      []string
		abi30       string
		abi40       string
		kernel      string
	}{
		{"userns", "", []string{"create"}, "namespaces/mask", "", ""},
		{"mqueue", "posix", []string{"create", "read"}, "ipc/posix_mqueue", "", ""},
		{"mqueue", "", []string{"getattr"}, "ipc/posix_mqueue", "", ""},
		{"mqueue", "sysv", []string{"read"}, "ipc/sysv_mqueue", "ipc/sysv_mqueue", "ipc/sysv_mqueue"},
		{"io_uring", "", []string{"sqpoll"}, "io_uring/mask", "io_uring/mask", ""},
		{"io_uring", "", []string{"override_creds"}, "io_uring/mask", "io_uring/mask", ""},
		{"io_uring", "", []string{"cmd"}, "io_uring/mask", "io_uring/mask", "io_uring/mask: cmd"},
		{"network", "inet", nil, "network_v9/af_inet", "network_v9/af_inet", "network_v9/af_inet"},
		{"network", "inet6", nil, "network_v9/af_inet", "network_v9/af_inet", "network_v9/af_inet"},
		{"network", "", nil, "", "", ""},
		{"unix", "", []string{"connect"}, "", "", ""},
		{"signal", "", []string{"send"}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.class+" "+tt.kind, func(t *testing.T) {
			assert.Equal(t, tt.abi30, abi30.MissingFor(tt.class, tt.kind, tt.access), "abi/3.0")
			assert.Equal(t, tt.abi40, abi40.MissingFor(tt.class, tt.kind, tt.access), "abi/4.0")
			assert.Equal(t, tt.kernel, kernel612.MissingFor(tt.class, tt.kind, tt.access), "kernel")
		})
	}
}

// Kernels list fine-grained inet mediation as network_v9/af_inet or
// network_v8/af_inet.
func TestMissingForInet(t *testing.T) {
	for _, f := range []Features{{"network_v9/af_inet": "yes"}, {"network_v8/af_inet": "yes"}} {
		assert.Empty(t, f.MissingFor("network", "inet", nil))
	}
}
