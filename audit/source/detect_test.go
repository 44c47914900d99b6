package source_test

import (
	"github.com/aa-flow/aa-flow/internal/testutil"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit/source"
)

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	opt := noHost(dir)
	_, err := source.Detect(opt)
	assert.ErrorContains(t, err, "--from")

	kmsg := filepath.Join(dir, "kmsg")
	testutil.WriteFile(t, kmsg, nil)
	opt.Kmsg = kmsg
	d, err := source.Detect(opt)
	require.NoError(t, err)
	assert.Equal(t, "kmsg", d.Kind)

	syslog := filepath.Join(dir, "kern.log")
	testutil.WriteFile(t, syslog, nil)
	opt.SyslogFiles = []string{filepath.Join(dir, "nope"), syslog}
	d, err = source.Detect(opt)
	require.NoError(t, err)
	assert.Equal(t, "syslog", d.Kind)
	assert.Equal(t, syslog, d.Name)

	opt.JournalDir = dir // exists: journald "runs"
	opt.Journalctl = "journalctl"
	d, err = source.Detect(opt)
	require.NoError(t, err)
	assert.Equal(t, "journald", d.Kind)

	auditLog := filepath.Join(dir, "audit.log")
	testutil.WriteFile(t, auditLog, nil)
	pid := filepath.Join(dir, "auditd.pid")
	testutil.WriteFile(t, pid, []byte("999999999\n")) // no such process
	opt.AuditLog, opt.AuditdPid = auditLog, []string{pid}
	d, err = source.Detect(opt)
	require.NoError(t, err)
	assert.Equal(t, "journald", d.Kind, "a stale pid file is not a running auditd")
	testutil.WriteFile(t, pid, []byte(strconv.Itoa(os.Getpid())+"\n"))
	d, err = source.Detect(opt)
	require.NoError(t, err)
	assert.Equal(t, "auditd", d.Kind)
	assert.Equal(t, auditLog, d.Name)
}
