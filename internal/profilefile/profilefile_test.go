package profilefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/store"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(src), 0o644))
		return p
	}
	nginx := write("usr.sbin.nginx", "profile nginx /usr/sbin/nginx {\n}\n")
	named := write("web", "profile other {\n}\n")
	write("dup1", "profile dup {\n}\n")
	write("dup2", "profile dup {\n}\n")
	write("broken", "profile broken {\n")
	write(".hidden", "profile hidden {\n}\n")
	managed := write("elsewhere", "profile svc {\n}\n")
	st := &store.Store{ProfileDir: dir, StateDir: t.TempDir()}
	require.NoError(t, st.Manage(store.Meta{Name: "svc", Profile: managed}))

	tests := []struct {
		name, want string
		err        error
		ambiguous  bool
	}{
		{name: "nginx", want: nginx},
		{name: "/usr/sbin/nginx", want: nginx},
		{name: "web", want: named},
		{name: "svc", want: managed},
		{name: "dup", ambiguous: true},
		{name: "broken", want: filepath.Join(dir, "broken")},
		{name: "hidden", err: ErrNotFound},
		{name: "nosuch", err: ErrNotFound},
	}
	for _, tt := range tests {
		got, err := Find(st, tt.name)
		switch {
		case tt.err != nil:
			assert.ErrorIs(t, err, tt.err, tt.name)
		case tt.ambiguous:
			var ae *AmbiguousError
			require.ErrorAs(t, err, &ae, tt.name)
			assert.Equal(t, []string{filepath.Join(dir, "dup1"), filepath.Join(dir, "dup2")}, ae.Files)
		default:
			require.NoError(t, err, tt.name)
			assert.Equal(t, tt.want, got, tt.name)
		}
	}
}
