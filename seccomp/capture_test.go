package seccomp

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/testutil"
)

// guestRecords reads the lines of the docker-check scenario's SECCOMP
// capture (testdata/corpus/kernel/docker) tagged tag through the audit
// readers, as seccomp learn does, and observes those filter keeps.
func guestRecords(t *testing.T, capture, tag string, keep func(Record) bool) Observation {
	t.Helper()
	in, err := os.Open(testutil.Corpus(t, "kernel", "docker", capture))
	require.NoError(t, err)
	defer in.Close()
	var b strings.Builder
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "["+tag+"] "); ok {
			b.WriteString(rest + "\n")
		}
	}
	require.NoError(t, sc.Err())
	log := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(log, []byte(b.String()), 0o644))
	var o Observation
	_, err = audit.Read(context.Background(), audit.ReadOptions{From: []string{log}, Since: time.Unix(0, 0), Seccomp: true}, func(e *audit.Event) error {
		if r, ok := FromEvent(e); ok {
			o.Take(r, keep)
		}
		return nil
	})
	require.NoError(t, err)
	o.Done()
	return o
}

// The runtime's noise, from the Debian 13 guest: runc's init runs under
// the container's filter, labelled with runc's own profile, from the
// moment the filter is installed until it executes the container's
// program. What only it called is learned (the container cannot start
// without it) and marked as the runtime's.
func TestGuestRuntimeNoise(t *testing.T) {
	for _, tc := range []struct {
		capture, tag string
		// runtime: calls only runc's init made; app: calls the
		// container's programs made (runc's init too, for some).
		runtime, app []string
	}{
		// --security-opt no-new-privileges: runc installs the filter
		// last, just before the exec.
		{"debian-13-seccomp.log", "hardened", []string{"epoll_ctl", "fstatfs", "futex"}, []string{"execve", "clock_nanosleep", "openat", "close"}},
		// docker run --init, root, without no-new-privileges: the filter
		// is installed earlier, and docker-init (tini) runs the program.
		{"debian-13-seccomp.log", "init", []string{"setgroups", "capset", "chdir", "faccessat2"}, []string{"execve", "wait4", "rt_sigtimedwait", "clock_nanosleep"}},
		// Debian 12: runc has no profile, its init's records say
		// subj=unconfined; the execve that starts sleep is its.
		{"debian-12-seccomp.log", "hardened", []string{"epoll_ctl", "fstatfs", "futex", "getpid", "execve"}, []string{"clock_nanosleep", "ioctl", "close"}},
	} {
		t.Run(tc.capture+"/"+tc.tag, func(t *testing.T) {
			o := guestRecords(t, tc.capture, tc.tag, Container("ctr-chk"))
			assert.Empty(t, o.Unmapped)
			assert.Empty(t, o.Refused, "the learning profile logs, it refuses nothing the workload made")
			for _, n := range tc.runtime {
				if assert.Contains(t, o.Seen, n) {
					assert.True(t, o.Seen[n].Runtime, "%s: only runc's init called it", n)
					assert.Equal(t, "runc:[2:INIT]", o.Seen[n].Comm)
				}
			}
			for _, n := range tc.app {
				if assert.Contains(t, o.Seen, n) {
					assert.False(t, o.Seen[n].Runtime, "%s: the container's own program called it", n)
				}
			}
		})
	}
}

// Under docker run --init, the program docker-init starts has no exec
// rule yet: complain mode runs it as ctr-chk//null-/usr/bin/busybox. Its
// calls are the container's.
func TestGuestChildProfileRecords(t *testing.T) {
	all := guestRecords(t, "debian-13-seccomp.log", "init", nil)
	mine := guestRecords(t, "debian-13-seccomp.log", "init", Container("ctr-chk"))
	assert.Equal(t, all.Records, mine.Records, "every record of the run is the container's or its runtime's")
	assert.Zero(t, mine.Untied, "each runc init's process went on under the profile")
	require.Contains(t, mine.Seen, "clock_nanosleep")
	assert.Equal(t, "sleep", mine.Seen["clock_nanosleep"].Comm)

	parentOnly := guestRecords(t, "debian-13-seccomp.log", "init", func(r Record) bool {
		return SubjectProfile(r.Subj) == "ctr-chk" || RuntimeInit(r)
	})
	assert.NotContains(t, parentOnly.Seen, "clock_nanosleep", "the child's records are what the profile's own label misses")
	other := guestRecords(t, "debian-13-seccomp.log", "init", Container("ctr-other"))
	assert.Zero(t, other.Records, "runc's init is tied to the profile its process runs under next, not to any")
	runc := guestRecords(t, "debian-13-seccomp.log", "init", RuntimeInit)
	assert.Equal(t, runc.Records, other.Untied, "each of runc's init's records is held and counted, none observed")
}
