package audit_test

import (
	"bytes"
	"context"
	"errors"
	"github.com/aa-flow/aa-flow/internal/testutil"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/loggen"
)

func genLog(t *testing.T, f loggen.Format, n int, seed uint64) ([]byte, loggen.Stats) {
	t.Helper()
	var b bytes.Buffer
	st, err := loggen.Write(&b, loggen.Options{Records: n, Seed: seed, Format: f})
	require.NoError(t, err)
	return b.Bytes(), st
}

// collect reads with opt and returns the events (cloned) and the result.
func collect(t *testing.T, opt audit.ReadOptions) ([]audit.Event, *audit.Result) {
	t.Helper()
	return collectWith(t, audit.Read, opt)
}

// collectWith is collect through another reader with Read's signature.
func collectWith(t *testing.T, read func(context.Context, audit.ReadOptions, func(*audit.Event) error) (*audit.Result, error), opt audit.ReadOptions) ([]audit.Event, *audit.Result) {
	t.Helper()
	var evs []audit.Event
	res, err := read(context.Background(), opt, func(e *audit.Event) error {
		evs = append(evs, *e)
		return nil
	})
	require.NoError(t, err)
	return evs, res
}

// noHost points every auto-detection path at nothing.
func noHost(dir string) audit.ReadOptions {
	return audit.ReadOptions{
		AuditLog:    filepath.Join(dir, "none", "audit.log"),
		AuditdPid:   []string{filepath.Join(dir, "none", "auditd.pid")},
		SyslogFiles: []string{},
		Kmsg:        filepath.Join(dir, "none", "kmsg"),
		JournalDir:  filepath.Join(dir, "none", "journal"),
	}
}

func TestReadFilesGzipStdin(t *testing.T) {
	dir := t.TempDir()
	log, st := genLog(t, loggen.AuditLog, 3000, 1)
	plain := filepath.Join(dir, "audit.log")
	zipped := filepath.Join(dir, "old.log.gz")
	testutil.WriteFile(t, plain, log)
	testutil.WriteFile(t, zipped, testutil.Gzip(t, log))

	for _, tc := range []struct {
		name string
		opt  audit.ReadOptions
	}{
		{"plain", audit.ReadOptions{From: []string{plain}}},
		{"gzip", audit.ReadOptions{From: []string{zipped}}},
		{"stdin", audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(log)}},
		{"stdin gzip", audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(testutil.Gzip(t, log))}},
		// The same records through two sources come out once.
		{"twice", audit.ReadOptions{From: []string{plain, zipped}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, res := collect(t, tc.opt)
			assert.Equal(t, st.Records, len(evs))
			assert.Empty(t, res.Stats.Malformed)
			assert.Equal(t, tc.opt.From, res.Sources)
			assert.Equal(t, st.ByMode["DENIED"], res.Stats.ByProfile["/usr/sbin/exampled"]["DENIED"]+countChildren(res.Stats.ByProfile, "DENIED"))
			if tc.name == "twice" {
				assert.Equal(t, st.Records, res.Stats.Duplicates)
			}
		})
	}
}

// TestReadGzipStopsEarly: a callback's error ends the read of a gzip file
// (decompressed ahead of parsing in a goroutine of its own) with that
// error, and the goroutine stops with it; so does a corrupt stream.
func TestReadGzipStopsEarly(t *testing.T) {
	dir := t.TempDir()
	log, _ := genLog(t, loggen.AuditLog, 20000, 3)
	zipped := filepath.Join(dir, "old.log.gz")
	z := testutil.Gzip(t, log)
	testutil.WriteFile(t, zipped, z)
	corrupt := filepath.Join(dir, "corrupt.log.gz")
	testutil.WriteFile(t, corrupt, append(bytes.Clone(z[:len(z)/2]), bytes.Repeat([]byte{0xff}, 4096)...))

	before := runtime.NumGoroutine()
	stop := errors.New("enough")
	n := 0
	_, err := audit.Read(context.Background(), audit.ReadOptions{From: []string{zipped}}, func(*audit.Event) error {
		n++
		if n == 100 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 100, n)

	n = 0
	_, err = audit.Read(context.Background(), audit.ReadOptions{From: []string{corrupt}}, func(*audit.Event) error {
		n++
		return nil
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), corrupt)
	assert.Positive(t, n, "records before the corruption are delivered")

	// Read returns only once its goroutines have stopped.
	assert.LessOrEqual(t, runtime.NumGoroutine(), before)
}

func countChildren(by map[string]map[audit.Mode]int, m audit.Mode) int {
	n := 0
	for p, c := range by {
		if strings.Contains(p, "//") {
			n += c[m]
		}
	}
	return n
}

func TestReadProfileFilter(t *testing.T) {
	log, st := genLog(t, loggen.AuditLog, 2000, 2)
	all, _ := collect(t, audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(log)})
	require.Equal(t, st.Records, len(all))
	mine, _ := collect(t, audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(log), Profile: "/usr/sbin/exampled"})
	assert.Equal(t, len(all), len(mine), "hats and children belong to the profile")
	none, _ := collect(t, audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(log), Profile: "/usr/sbin/example"})
	assert.Empty(t, none, "a name prefix is not the profile")

	for _, tc := range []struct {
		profile, label string
		want           bool
	}{
		{"/usr/sbin/x", "/usr/sbin/x", true},
		{"/usr/sbin/x", "/usr/sbin/x//null-/bin/sh", true},
		{"/usr/sbin/x", "/usr/sbin/xy", false},
		{"/usr/sbin/x", "foo//&/usr/sbin/x", true},
		{"/usr/sbin/x", "foo//&:ns:/usr/sbin/y", false},
	} {
		assert.Equal(t, tc.want, audit.MatchProfile(tc.profile, tc.label), "%s %s", tc.profile, tc.label)
	}
}

// splitLog cuts a generated log into count pieces at line boundaries.
func splitLog(b []byte, count int) [][]byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	per := (len(lines) + count - 1) / count
	var out [][]byte
	for i := 0; i < len(lines); i += per {
		out = append(out, bytes.Join(lines[i:min(i+per, len(lines))], nil))
	}
	return out
}

func TestReadSinceRotated(t *testing.T) {
	dir := t.TempDir()
	log, st := genLog(t, loggen.AuditLog, 3000, 3)
	parts := splitLog(log, 3)
	require.Len(t, parts, 3)
	path := filepath.Join(dir, "audit.log")
	testutil.WriteFile(t, path+".2.gz", testutil.Gzip(t, parts[0]))
	testutil.WriteFile(t, path+".1", parts[1])
	testutil.WriteFile(t, path, parts[2])

	all, _ := collect(t, audit.ReadOptions{From: []string{path}})
	require.Greater(t, len(all), 500)
	require.Less(t, len(all), st.Records, "without --since only the live file")

	// Since inside the .1 file: .1 and the live file, not .2.gz.
	firstOf1 := firstTime(t, parts[1])
	since := firstOf1.Add(2 * time.Second)
	evs, res := collect(t, audit.ReadOptions{From: []string{path}, Since: since})
	require.NotEmpty(t, evs)
	srcs := map[string]bool{}
	for _, e := range evs {
		assert.False(t, e.Time.Before(since), "record before --since")
		srcs[e.Source] = true
	}
	assert.Equal(t, map[string]bool{path + ".1": true, path: true}, srcs)
	assert.Empty(t, res.Stats.Malformed)

	// Since before everything: all three, oldest first, every record once.
	evs, _ = collect(t, audit.ReadOptions{From: []string{path}, Since: time.Unix(1, 0)})
	assert.Equal(t, st.Records, len(evs))
	assert.Equal(t, path+".2.gz", evs[0].Source)
	assert.True(t, sortedByTime(evs))
}

func mustCollect(t *testing.T, b []byte) []audit.Event {
	t.Helper()
	evs, _ := collect(t, audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(b)})
	return evs
}

func firstTime(t *testing.T, b []byte) time.Time {
	t.Helper()
	evs, _ := collect(t, audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(b)})
	require.NotEmpty(t, evs)
	return evs[0].Time
}

func sortedByTime(evs []audit.Event) bool {
	for i := 1; i < len(evs); i++ {
		if evs[i].Time.Before(evs[i-1].Time) {
			return false
		}
	}
	return true
}

func TestReadCursorResume(t *testing.T) {
	dir := t.TempDir()
	log, st := genLog(t, loggen.AuditLog, 3000, 4)
	parts := splitLog(log, 3)
	path := filepath.Join(dir, "audit.log")
	testutil.WriteFile(t, path, parts[0])

	first, res := collect(t, audit.ReadOptions{From: []string{path}})
	require.NotEmpty(t, first)
	cur := res.Cursor
	require.NotNil(t, cur.Get(path))

	// The cursor survives JSON.
	b, err := jsonRoundTrip(cur)
	require.NoError(t, err)

	// More lines, then a rotation by rename, then a new file.
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(parts[1])
	require.NoError(t, err)
	require.NoError(t, f.Close())
	require.NoError(t, os.Rename(path, path+".1"))
	testutil.WriteFile(t, path, parts[2])

	second, res2 := collect(t, audit.ReadOptions{From: []string{path}, Cursor: &b})
	assert.Equal(t, st.Records, len(first)+len(second), "every record exactly once across the two reads")
	assert.True(t, first[len(first)-1].Time.Before(second[0].Time) || first[len(first)-1].Time.Equal(second[0].Time))

	// Nothing new: nothing returned.
	third, _ := collect(t, audit.ReadOptions{From: []string{path}, Cursor: &res2.Cursor})
	assert.Empty(t, third)
}

func jsonRoundTrip(c audit.Cursor) (audit.Cursor, error) {
	b, err := jsonMarshal(c)
	if err != nil {
		return audit.Cursor{}, err
	}
	var out audit.Cursor
	return out, jsonUnmarshal(b, &out)
}

func TestReadKmsg(t *testing.T) {
	dir := t.TempDir()
	log, st := genLog(t, loggen.Kmsg, 1000, 5)
	kmsg := filepath.Join(dir, "kmsg")
	testutil.WriteFile(t, kmsg, log)
	opt := noHost(dir)
	opt.Kmsg = kmsg
	var note bytes.Buffer
	opt.Log = &note
	evs, res := collect(t, opt)
	assert.Equal(t, st.Records, len(evs))
	assert.Contains(t, note.String(), "reading "+kmsg)
	assert.Empty(t, res.Stats.Lost)
	assert.Empty(t, res.Stats.Malformed)
	seq := res.Cursor.Get("kmsg").Seq
	assert.Positive(t, seq)

	// Resume after the cursor: nothing again.
	opt.Cursor = &res.Cursor
	again, _ := collect(t, opt)
	assert.Empty(t, again)

	// Records overwritten in the ring buffer (a jump in sequence numbers)
	// are reported as lost.
	lines := bytes.SplitAfter(log, []byte("\n"))
	var cut []byte
	for i, l := range lines {
		if i >= 100 && i < 140 {
			continue
		}
		cut = append(cut, l...)
	}
	testutil.WriteFile(t, kmsg, cut)
	opt.Cursor = nil
	_, res = collect(t, opt)
	require.NotEmpty(t, res.Stats.Lost)
	var kl []audit.Lost
	for _, l := range res.Stats.Lost {
		if l.Kind == "kmsg-overwritten" {
			kl = append(kl, l)
		}
	}
	require.Len(t, kl, 1)
	assert.Equal(t, 20, kl[0].Count) // 40 lines: 20 records and their continuation lines
	assert.Contains(t, kl[0].Advice, "log_buf_len")
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

func TestReadJournal(t *testing.T) {
	dir := t.TempDir()
	jf := filepath.Join(dir, "test.journal")
	writeJournal(t, jf, filepath.Join("source", "testdata", "journal.export"))

	opt := noHost(dir)
	opt.JournalFile = jf
	var note bytes.Buffer
	opt.Log = &note
	evs, res := collect(t, opt)
	assert.Contains(t, note.String(), "reading journald")
	// 20 generated records (each through both transports: returned once)
	// plus the kernel record whose MESSAGE is not UTF-8 (a byte array).
	require.Equal(t, 21, len(evs))
	assert.Equal(t, 20, res.Stats.Duplicates)
	assert.Empty(t, res.Stats.Malformed)
	last := evs[len(evs)-1]
	assert.Equal(t, uint64(9001), last.Serial)
	assert.Equal(t, "caf\xe9", last.Comm)
	withExe := 0
	for _, e := range evs {
		if e.Exe != "" {
			withExe++
		}
	}
	assert.Positive(t, withExe, "SYSCALL companions from the audit transport attach")

	// Following the journal: the same records, then it waits until
	// cancelled, and stops without error.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fopt := opt
	fopt.Follow = true
	fopt.Log = nil
	got := make(chan uint64, 64)
	done := make(chan error, 1)
	go func() {
		_, err := audit.Read(ctx, fopt, func(e *audit.Event) error {
			got <- e.Serial
			return nil
		})
		done <- err
	}()
	for i := 0; i < len(evs); i++ {
		select {
		case <-got:
		case err := <-done:
			t.Fatalf("journal follow stopped after %d records: %v", i, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("journal follow: %d of %d records", i, len(evs))
		}
	}
	cancel()
	require.NoError(t, <-done)

	jc := res.Cursor.Get("journald")
	require.NotNil(t, jc)
	assert.Contains(t, jc.Journal, "s=")
	// Resume after the cursor: nothing new.
	opt.Cursor = &res.Cursor
	again, _ := collect(t, opt)
	assert.Empty(t, again)
}

func TestReadFollow(t *testing.T) {
	dir := t.TempDir()
	log, st := genLog(t, loggen.AuditLog, 2000, 6)
	parts := splitLog(log, 4)
	path := filepath.Join(dir, "audit.log")
	testutil.WriteFile(t, path, parts[0])

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan audit.Event, 4096)
	done := make(chan error, 1)
	var res *audit.Result
	go func() {
		var err error
		res, err = audit.Read(ctx, audit.ReadOptions{From: []string{path}, Follow: true, Poll: 20 * time.Millisecond}, func(e *audit.Event) error {
			got <- *e
			return nil
		})
		done <- err
	}()
	// Once the existing records are read, append the rest while following,
	// with a rename+create in between.
	n := 0
	first := len(mustCollect(t, parts[0]))
	for ; n < first; n++ {
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			t.Fatalf("read %d of the %d records already there", n, first)
		}
	}
	appendTo := func(b []byte) {
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		require.NoError(t, err)
		_, err = f.Write(b)
		require.NoError(t, err)
		require.NoError(t, f.Close())
	}
	appendTo(parts[1])
	require.NoError(t, os.Rename(path, path+".1"))
	appendTo(parts[2])
	appendTo(parts[3])

	deadline := time.After(30 * time.Second)
	for n < st.Records {
		select {
		case <-got:
			n++
		case err := <-done:
			t.Fatalf("Read stopped after %d records: %v", n, err)
		case <-deadline:
			t.Fatalf("followed %d of %d records", n, st.Records)
		}
	}
	cancel()
	require.NoError(t, <-done)
	assert.Equal(t, st.Records, n)
	assert.Empty(t, res.Stats.Malformed)
	assert.Equal(t, st.Records, sumByProfile(res.Stats.ByProfile))
	select {
	case e := <-got:
		t.Fatalf("a record too many: %+v", e)
	default:
	}
}

// Two followed files holding the same records: each record comes out once.
func TestReadFollowTwoSources(t *testing.T) {
	dir := t.TempDir()
	log, st := genLog(t, loggen.AuditLog, 1000, 8)
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	testutil.WriteFile(t, a, log)
	testutil.WriteFile(t, b, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan audit.Event, 4096)
	done := make(chan error, 1)
	go func() {
		_, err := audit.Read(ctx, audit.ReadOptions{From: []string{a, b}, Follow: true, Poll: 20 * time.Millisecond}, func(e *audit.Event) error {
			got <- *e
			return nil
		})
		done <- err
	}()
	n := 0
	for ; n < st.Records; n++ {
		select {
		case <-got:
		case <-time.After(30 * time.Second):
			t.Fatalf("followed %d of %d records", n, st.Records)
		}
	}
	// The same records arrive in the second file: all duplicates.
	testutil.WriteFile(t, b, log)
	// And one new record (the first, with a new serial) shows the second
	// file is read.
	first := bytes.SplitAfter(log, []byte("\n"))[0]
	fresh := bytes.Replace(first, []byte(":"), []byte(":9"), 1)
	f, err := os.OpenFile(b, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.Write(fresh)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	select {
	case e := <-got:
		assert.Equal(t, b, e.Source)
		assert.Greater(t, e.Serial, uint64(90000))
	case <-time.After(30 * time.Second):
		t.Fatal("the new record in the second file never came")
	}
	cancel()
	require.NoError(t, <-done)
	select {
	case e := <-got:
		t.Fatalf("a duplicate came out: %s:%d", e.Source, e.Line)
	default:
	}
}

func sumByProfile(by map[string]map[audit.Mode]int) int {
	n := 0
	for _, m := range by {
		for _, c := range m {
			n += c
		}
	}
	return n
}
