//go:build sdjournal && cgo

package audit_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
)

// sdJournal is a real journal file of testdata/sources/journal.export and
// options that read it (and nothing of the host).
func sdJournal(t *testing.T) (string, audit.ReadOptions) {
	t.Helper()
	dir := t.TempDir()
	jf := filepath.Join(dir, "test.journal")
	writeJournal(t, jf, filepath.Join("testdata", "sources", "journal.export"))
	opt := noHost(dir)
	opt.JournalFile = jf
	return jf, opt
}

// readJournalctl is collect through the journalctl source.
func readJournalctl(t *testing.T, opt audit.ReadOptions) ([]audit.Event, *audit.Result) {
	t.Helper()
	return collectWith(t, audit.ReadJournalctl, opt)
}

func serials(evs []audit.Event) []uint64 {
	s := make([]uint64, len(evs))
	for i, e := range evs {
		s[i] = e.Serial
	}
	return s
}

// sameEvents asserts that two reads returned the same events, every field
// of each, naming the first that differs.
func sameEvents(t *testing.T, want, got []audit.Event) {
	t.Helper()
	require.Equal(t, serials(want), serials(got), "serials")
	for i := range want {
		if !assert.Equal(t, want[i], got[i], "event %d (serial %d)", i, want[i].Serial) {
			return
		}
	}
}

func TestSDJournalSameAsJournalctl(t *testing.T) {
	_, opt := sdJournal(t)
	require.Equal(t, "*audit.sdJournalSource", audit.JournalSourceType(opt), "with -tags sdjournal, Read reads journald through sd-journal")

	var note bytes.Buffer
	opt.Log = &note
	sd, sdRes := collect(t, opt)
	assert.NotContains(t, note.String(), "journalctl", "libsystemd loads here: no fallback")
	opt.Log = nil
	jc, jcRes := readJournalctl(t, opt)

	require.Equal(t, 21, len(sd))
	sameEvents(t, jc, sd)
	last := sd[len(sd)-1]
	assert.Equal(t, uint64(9001), last.Serial)
	assert.Equal(t, "caf\xe9", last.Comm, "a MESSAGE that is not UTF-8 arrives as its bytes")
	withExe := 0
	for _, e := range sd {
		if e.Exe != "" {
			withExe++
		}
	}
	assert.Positive(t, withExe, "SYSCALL companions from the audit transport attach")
	assert.Equal(t, 20, sdRes.Stats.Duplicates)
	assert.Equal(t, jcRes.Stats.Duplicates, sdRes.Stats.Duplicates)
	assert.Equal(t, jcRes.Stats.Lines, sdRes.Stats.Lines)
	assert.Equal(t, jcRes.Stats.Records, sdRes.Stats.Records)
	assert.Equal(t, jcRes.Stats.Companions, sdRes.Stats.Companions)
	assert.Empty(t, sdRes.Stats.Malformed)

	// Both stop at the same entry.
	sc, jcc := sdRes.Cursor.Get("journald"), jcRes.Cursor.Get("journald")
	require.NotNil(t, sc)
	require.NotNil(t, jcc)
	assert.Contains(t, sc.Journal, "s=")
	assert.Equal(t, jcc.Journal, sc.Journal)
	assert.True(t, jcc.Time.Equal(sc.Time), "cursor times %v, %v", jcc.Time, sc.Time)

	// Resuming at the cursor returned: nothing new.
	ropt := opt
	ropt.Cursor = &sdRes.Cursor
	again, res := collect(t, ropt)
	assert.Empty(t, again)
	assert.Equal(t, sc.Journal, res.Cursor.Get("journald").Journal, "the cursor stays where it was")
}

// journalEntries is the journal's kernel and audit entries as journalctl
// prints them.
func journalEntries(t *testing.T, jf string) []map[string]any {
	t.Helper()
	out, err := exec.Command("journalctl", "--file", jf, "-o", "json", "--no-pager", "--all",
		"_TRANSPORT=kernel", "_TRANSPORT=audit").Output()
	require.NoError(t, err)
	var ents []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m))
		ents = append(ents, m)
	}
	return ents
}

func TestSDJournalResumeAndSince(t *testing.T) {
	jf, opt := sdJournal(t)

	// Resume after an entry in the middle: the kernel copy of serial 1006,
	// whose audit copy comes before it. Were the entry at the cursor read
	// again, 1006 would be returned again.
	ents := journalEntries(t, jf)
	require.Greater(t, len(ents), 2)
	at := ents[1]
	require.Equal(t, "kernel", at["_TRANSPORT"])
	require.Contains(t, at["MESSAGE"], ":1006)")
	copt := opt
	copt.Cursor = &audit.Cursor{}
	copt.Cursor.Set(audit.SourceCursor{Source: "journald", Journal: at["__CURSOR"].(string)})
	sd, _ := collect(t, copt)
	jc, _ := readJournalctl(t, copt)
	sameEvents(t, jc, sd)
	assert.Len(t, sd, 20)
	assert.NotContains(t, serials(sd), uint64(1006))

	all, _ := collect(t, opt)
	require.Len(t, all, 21)

	// From a time: the same records as journalctl --since.
	sopt := opt
	sopt.Since = all[10].Time
	sd, _ = collect(t, sopt)
	jc, _ = readJournalctl(t, sopt)
	sameEvents(t, jc, sd)
	assert.NotEmpty(t, sd)
	assert.Less(t, len(sd), 21)
	for _, e := range sd {
		assert.False(t, e.Time.Before(sopt.Since), "serial %d at %v is before %v", e.Serial, e.Time, sopt.Since)
	}
}

func TestSDJournalFollow(t *testing.T) {
	jf, opt := sdJournal(t)
	opt.Follow = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan uint64, 64)
	type ended struct {
		res *audit.Result
		err error
	}
	done := make(chan ended, 1)
	go func() {
		res, err := audit.Read(ctx, opt, func(e *audit.Event) error {
			got <- e.Serial
			return nil
		})
		done <- ended{res, err}
	}()
	next := func(what string) uint64 {
		t.Helper()
		select {
		case s := <-got:
			return s
		case e := <-done:
			t.Fatalf("journal follow stopped waiting for %s: %v", what, e.err)
		case <-time.After(30 * time.Second):
			t.Fatalf("journal follow: no %s after 30s", what)
		}
		return 0
	}
	for i := range 21 {
		next("record " + itoa(i+1) + " of 21")
	}

	// An entry written while following is delivered.
	export := filepath.Join(t.TempDir(), "late.export")
	writeFile(t, export, []byte("__REALTIME_TIMESTAMP=1795341700000000\n"+
		"__MONOTONIC_TIMESTAMP=10900000000\n"+
		"_BOOT_ID=fedcba9876543210fedcba9876543210\n"+
		"_TRANSPORT=kernel\n"+
		`MESSAGE=audit: type=1400 audit(1795341700.000:9100): apparmor="DENIED" operation="open" class="file" profile="/usr/sbin/exampled" name="/etc/shadow" pid=1300 comm="late" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`+"\n\n"))
	writeJournal(t, jf, export)
	assert.Equal(t, uint64(9100), next("the entry written while following"))

	// Cancelled: it stops cleanly, its cursor at that last entry.
	cancel()
	var e ended
	select {
	case e = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("journal follow did not stop on cancel")
	}
	require.NoError(t, e.err)
	opt.Follow = false
	_, jcRes := readJournalctl(t, opt)
	want := jcRes.Cursor.Get("journald")
	require.NotNil(t, want)
	assert.Equal(t, want.Journal, e.res.Cursor.Get("journald").Journal)
	select {
	case s := <-got:
		t.Errorf("serial %d returned after the follow ended", s)
	default:
	}
}

func TestSDJournalFallback(t *testing.T) {
	_, opt := sdJournal(t)
	var note bytes.Buffer
	opt.Log = &note
	var evs []audit.Event
	res, err := audit.ReadJournalNoLibsystemd(context.Background(), opt, func(e *audit.Event) error {
		evs = append(evs, *e)
		return nil
	})
	require.NoError(t, err, "no libsystemd: read through journalctl rather than fail")
	assert.Contains(t, note.String(), "libsystemd cannot be loaded")
	assert.Contains(t, note.String(), "reading with journalctl")
	opt.Log = nil
	jc, jcRes := readJournalctl(t, opt)
	require.Len(t, evs, 21)
	sameEvents(t, jc, evs)
	assert.Equal(t, jcRes.Cursor.Get("journald").Journal, res.Cursor.Get("journald").Journal, "the fallback's cursor")
}

func TestSDJournalMissingFile(t *testing.T) {
	dir := t.TempDir()
	opt := noHost(dir)
	opt.JournalFile = filepath.Join(dir, "none.journal")
	_, err := audit.Read(context.Background(), opt, func(*audit.Event) error { return nil })
	require.Error(t, err, "a journal that cannot be opened is an error, not a fallback")
	assert.Contains(t, err.Error(), "journal "+opt.JournalFile)
}
