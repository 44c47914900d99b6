package source_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit/source"
)

// got is what a test keeps of one Line.
type got struct {
	Text   string
	Where  string
	No     int
	Origin source.Origin
	Time   time.Time
	Serial uint64
	Err    bool
}

// run reads src to its end and returns its lines.
func run(t *testing.T, src source.Source) []got {
	t.Helper()
	var out []got
	require.NoError(t, src.Run(context.Background(), func(l *source.Line) error {
		assert.Equal(t, src.Name(), l.Source)
		out = append(out, got{string(l.Text), l.Where(), l.No, l.Origin, l.Time, l.Serial, l.Err != nil})
		return nil
	}))
	return out
}

func texts(gs []got) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Text
	}
	return out
}

// noHost points every auto-detection path at nothing.
func noHost(dir string) source.Options {
	return source.Options{
		AuditLog:    filepath.Join(dir, "none", "audit.log"),
		AuditdPid:   []string{filepath.Join(dir, "none", "auditd.pid")},
		SyslogFiles: []string{},
		Kmsg:        filepath.Join(dir, "none", "kmsg"),
		JournalDir:  filepath.Join(dir, "none", "journal"),
	}
}

func avc(sec, serial int) string {
	return "type=AVC msg=audit(" + strconv.Itoa(sec) + ".000:" + strconv.Itoa(serial) + `): apparmor="ALLOWED" operation="open"`
}

func TestFileSource(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	testutil.WriteFile(t, path+".2.gz", testutil.Gzip(t, []byte(avc(100, 1)+"\n")))
	testutil.WriteFile(t, path+".1", []byte(avc(200, 2)+"\n"))
	testutil.WriteFile(t, path, []byte(avc(300, 3)+"\n"+avc(400, 4)+"\r\nno newline"))

	// Alone: the file itself, line by line, Text.
	src := source.File(path, source.Options{})
	lines := run(t, src)
	require.Len(t, lines, 3)
	assert.Equal(t, []string{avc(300, 3), avc(400, 4), "no newline"}, texts(lines))
	for i, l := range lines {
		assert.Equal(t, path, l.Where)
		assert.Equal(t, i+1, l.No)
		assert.Equal(t, source.Text, l.Origin)
	}
	pos := src.Position()
	assert.Equal(t, path, pos.Source)
	assert.NotZero(t, pos.ID)
	assert.Equal(t, int64(len(avc(300, 3)+"\n"+avc(400, 4)+"\r\nno newline")), pos.Offset)
	assert.Equal(t, 3, pos.Line)

	// Since before the rotated files: they are read first, oldest first,
	// each named.
	lines = run(t, source.File(path, source.Options{Since: time.Unix(250, 0)}))
	assert.Equal(t, []string{avc(200, 2), avc(300, 3), avc(400, 4), "no newline"}, texts(lines))
	assert.Equal(t, path+".1", lines[0].Where)
	lines = run(t, source.File(path, source.Options{Since: time.Unix(150, 0)}))
	assert.Equal(t, avc(100, 1), lines[0].Text)
	assert.Equal(t, path+".2.gz", lines[0].Where)

	// Resumed at its position: what was appended since, numbered on.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\n" + avc(500, 5) + "\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	cur := &source.Cursor{}
	cur.Set(pos)
	lines = run(t, source.File(path, source.Options{Cursor: cur}))
	assert.Equal(t, []got{{Text: "", Where: path, No: 4}, {Text: avc(500, 5), Where: path, No: 5}}, lines)

	// The callback's error stops the source and is returned as it is.
	stop := errors.New("enough")
	err = source.File(path, source.Options{}).Run(context.Background(), func(*source.Line) error { return stop })
	assert.Same(t, stop, err)

	// A missing file is an error naming it.
	err = source.File(filepath.Join(dir, "nope"), source.Options{}).Run(context.Background(), func(*source.Line) error { return nil })
	assert.ErrorContains(t, err, filepath.Join(dir, "nope"))
}

func TestStdinSource(t *testing.T) {
	in := []byte(avc(1, 1) + "\n" + avc(2, 2) + "\n")
	for name, b := range map[string][]byte{"plain": in, "gzip": testutil.Gzip(t, in)} {
		t.Run(name, func(t *testing.T) {
			src := source.Stdin(bytes.NewReader(b))
			lines := run(t, src)
			assert.Equal(t, []string{avc(1, 1), avc(2, 2)}, texts(lines))
			assert.Equal(t, "-", lines[1].Where)
			assert.Equal(t, 2, lines[1].No)
			assert.Equal(t, source.Text, lines[0].Origin)
			assert.Empty(t, src.Position().Source, "stdin has no position to resume")
		})
	}
}

func TestKmsgSource(t *testing.T) {
	dir := t.TempDir()
	kmsg := filepath.Join(dir, "kmsg")
	msg := func(serial int) string {
		return "audit: type=1400 audit(1795341600.031:" + strconv.Itoa(serial) + `): apparmor="ALLOWED" operation="open"`
	}
	testutil.WriteFile(t, kmsg, []byte("5,10,100,-;"+msg(1)+"\n"+
		" SUBSYSTEM=audit\n"+ // a dictionary line: not a record
		"6,11,200,-;traps: t[31337] trap invalid opcode\n"+
		"5,14,300,-;"+msg(2)+"\n"))
	src := source.Kmsg(kmsg, source.Options{})
	assert.Equal(t, "kmsg", src.Name())
	lines := run(t, src)
	assert.Equal(t, []string{msg(1), "traps: t[31337] trap invalid opcode", msg(2)}, texts(lines), "the messages alone, whatever they say")
	for i, l := range lines {
		assert.Equal(t, source.Kernel, l.Origin)
		assert.Equal(t, i+1, l.No)
		assert.Equal(t, "kmsg", l.Where)
	}
	// Sequence numbers 12 and 13 were overwritten.
	require.Len(t, src.Lost(), 1)
	assert.Equal(t, "kmsg-overwritten", src.Lost()[0].Kind)
	assert.Equal(t, 2, src.Lost()[0].Count)
	assert.Contains(t, src.Lost()[0].Advice, "log_buf_len")
	pos := src.Position()
	assert.Equal(t, uint64(14), pos.Seq)
	assert.True(t, pos.Time.Equal(time.UnixMilli(1795341600031)), "time %v", pos.Time)

	// Resumed after sequence 11: only 14.
	cur := &source.Cursor{}
	cur.Set(source.Position{Source: "kmsg", Seq: 11})
	assert.Equal(t, []string{msg(2)}, texts(run(t, source.Kmsg(kmsg, source.Options{Cursor: cur}))))
}

// fakeJournalctl is a journalctl that prints out whatever its arguments.
func fakeJournalctl(t *testing.T, out string) string {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "out.json")
	testutil.WriteFile(t, data, []byte(out))
	bin := filepath.Join(dir, "journalctl")
	testutil.WriteFile(t, bin, []byte("#!/bin/sh\nexec cat "+data+"\n"))
	require.NoError(t, os.Chmod(bin, 0o755))
	return bin
}

func TestJournalctlSource(t *testing.T) {
	bin := fakeJournalctl(t, strings.Join([]string{
		`{"__CURSOR":"s=1","__REALTIME_TIMESTAMP":"1795341600031000","_TRANSPORT":"audit","_AUDIT_ID":"1006","MESSAGE":"AVC apparmor=\"ALLOWED\""}`,
		`{"__CURSOR":"s=2","__REALTIME_TIMESTAMP":"1795341600032000","_TRANSPORT":"kernel","MESSAGE":[99,97,102,233]}`,
		`not json`,
		`{"__CURSOR":"s=4","__REALTIME_TIMESTAMP":"1795341600033000","_SOURCE_REALTIME_TIMESTAMP":"1795341600030000","_TRANSPORT":"kernel","MESSAGE":["a","b"]}`,
		``,
	}, "\n"))
	src := source.Journalctl(source.Options{Journalctl: bin})
	assert.Equal(t, "journald", src.Name())
	lines := run(t, src)
	require.Len(t, lines, 5)
	assert.Equal(t, got{Text: `AVC apparmor="ALLOWED"`, Where: "journald", No: 1, Origin: source.Audit, Time: time.UnixMicro(1795341600031000), Serial: 1006}, lines[0])
	assert.Equal(t, got{Text: "caf\xe9", Where: "journald", No: 2, Origin: source.Kernel, Time: time.UnixMicro(1795341600032000)}, lines[1], "a MESSAGE that is not UTF-8, as its bytes; a kernel entry is dated too")
	assert.Equal(t, got{Where: "journald", No: 3, Err: true}, lines[2], "an entry that cannot be read is reported")
	assert.Equal(t, []string{"a", "b"}, texts(lines[3:]), "a field with several values: each")
	pos := src.Position()
	assert.Equal(t, "s=4", pos.Journal)
	assert.True(t, pos.Time.Equal(time.UnixMicro(1795341600030000)), "the source's own time first: %v", pos.Time)
}

// TestJournalSource reads a real journal file through the build's journal
// source.
func TestJournalSource(t *testing.T) {
	jf := filepath.Join(t.TempDir(), "test.journal")
	writeJournal(t, jf, filepath.Join("testdata", "journal.export"))
	lines := run(t, source.Journal(source.Options{JournalFile: jf}))
	require.Len(t, lines, 67) // 20 records through both transports, the audit transport's companions, one kernel-only record
	n := map[source.Origin]int{}
	for _, l := range lines {
		n[l.Origin]++
		if l.Origin == source.Audit {
			assert.Positive(t, l.Serial)
			assert.False(t, l.Time.IsZero())
		}
	}
	assert.Equal(t, 21, n[source.Kernel])
	assert.Equal(t, 46, n[source.Audit])
}

// writeJournal writes the entries of the journal export file export into
// the journal file jf (created, or appended to) with systemd-journal-remote:
// a real journal, as journald writes it.
func writeJournal(t *testing.T, jf, export string) {
	t.Helper()
	remote := "/lib/systemd/systemd-journal-remote"
	if _, err := os.Stat(remote); err != nil {
		t.Fatalf("systemd-journal-remote is needed (Debian package systemd-journal-remote; make deps): %v", err)
	}
	in, err := os.Open(export)
	require.NoError(t, err)
	defer in.Close()
	cmd := exec.Command(remote, "-o", jf, "-")
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
}
