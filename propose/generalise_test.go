package propose

import (
	"testing"

	"github.com/aa-flow/aa-flow/profiles"
	"github.com/stretchr/testify/assert"
)

var tunables = profiles.Vars{"PROC": {"/proc/"}, "pid": {"{[1-9],[1-9][0-9]}"}, "tid": {"@{pid}"}, "HOME": {"/home/*/", "/root/"}, "uid": {"[0-9]*"}}

func TestGeneralisePath(t *testing.T) {
	cases := []struct {
		name      string
		vars      profiles.Vars
		path      string
		want      string
		wantKind  string
		wantBroad bool
	}{
		{"proc pid with tunables", tunables, "/proc/1234/stat", "@{PROC}/@{pid}/stat", GenProcPID, false},
		{"proc pid task", tunables, "/proc/812/task/813/comm", "@{PROC}/@{pid}/task/@{tid}/comm", GenProcPID, false},
		{"proc pid no tunables", nil, "/proc/1234/status", "/proc/[1-9]*/status", GenProcPID, false},
		{"proc pid dir", tunables, "/proc/99/fd/", "@{PROC}/@{pid}/fd/", GenProcPID, false},
		{"proc sys is not a pid", tunables, "/proc/sys/kernel/random/uuid", "", "", false},
		{"home", tunables, "/home/alice/.config/app.conf", "@{HOME}/.config/app.conf", GenHome, false},
		{"home no tunables", nil, "/home/alice/.cache/x", "/home/*/.cache/x", GenHome, false},
		{"root's home is one of @{HOME}'s", tunables, "/root/.cache/x", "@{HOME}/.cache/x", GenHome, false},
		{"root's home without @{HOME}", nil, "/root/.cache/x", "", "", false},
		{"root's home itself", tunables, "/root/", "", "", false},
		{"home escapes the rest", tunables, "/home/bob/a{b}", `@{HOME}/a\{b\}`, GenHome, false},
		{"run user", tunables, "/run/user/1000/bus", "/run/user/@{uid}/bus", GenRunUser, false},
		{"run user no tunables", nil, "/run/user/1000/pulse/native", "/run/user/[0-9]*/pulse/native", GenRunUser, false},
		{"versioned library", nil, "/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libssl.so*", GenVersioned, false},
		{"versioned library long", nil, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6.0.30", `/usr/lib/x86_64-linux-gnu/libstdc++.so*`, GenVersioned, false},
		{"unversioned library stays", nil, "/usr/lib/x86_64-linux-gnu/libdl-2.13.so", "", "", false},
		{"mktemp", nil, "/tmp/tmp.Xk3fQ9aLpZ", "/tmp/tmp.*", GenRandom, false},
		{"mktemp dir", nil, "/tmp/ssh-gRozJw4786/agent.1", "/tmp/ssh-*/agent.1", GenRandom, false},
		{"uuid", nil, "/var/lib/app/3f2a9c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b.json", "/var/lib/app/*.json", GenRandom, false},
		{"hex run", nil, "/var/cache/app/9f86d081884c7d659a2feaa0c55ad015.bin", "/var/cache/app/*.bin", GenRandom, false},
		{"mixed case outside temp stays", nil, "/usr/lib/libQt5Core.so", "", "", false},
		{"plain path stays", nil, "/etc/hostname", "", "", false},
		{"top-level random is too broad", nil, "/tmp/Ab3dE5fG7h", "/tmp/*", GenRandom, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := NewProposer(nil, "x", ProposeOptions{Vars: tc.vars})
			got, kind := p.generalisePath(tc.path)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantKind, kind)
			if got != "" {
				assert.Equal(t, tc.wantBroad, tooBroad(got))
			}
		})
	}
}

func TestTooBroad(t *testing.T) {
	for pat, want := range map[string]bool{
		"/":                 true,
		"/*":                true,
		"/**":               true,
		"/tmp/*":            true,
		"/usr/**":           true,
		"/*/x":              true,
		"/tmp/stress/*":     false,
		"@{PROC}/@{pid}/":   false,
		"/etc/hostname":     false,
		"/home/*/.cache/x":  false,
		"/run/user/@{uid}/": false,
	} {
		assert.Equal(t, want, tooBroad(pat), pat)
	}
}

func TestFilePerms(t *testing.T) {
	for in, want := range map[string]string{
		"r": "r", "wc": "w", "c": "w", "d": "w", "wrd": "rw", "a": "a", "aw": "w",
		"::r": "r", "r::": "r", "mrwIxl": "rwlm", "x": "", "k": "k", "": "",
	} {
		assert.Equal(t, want, filePerms(in), in)
	}
}
