//go:build sdjournal && cgo

package source_test

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/aa-flow/aa-flow/internal/testutil"
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

// sdJournal is a real journal file of testdata/journal.export and options
// that read it.
func sdJournal(t *testing.T) (string, source.Options) {
	t.Helper()
	jf := filepath.Join(t.TempDir(), "test.journal")
	writeJournal(t, jf, filepath.Join("testdata", "journal.export"))
	return jf, source.Options{JournalFile: jf}
}

// both reads opt's journal through sd-journal and through journalctl and
// asserts that they saw the same lines and stopped at the same entry.
func both(t *testing.T, opt source.Options) []got {
	t.Helper()
	sd := source.Journal(opt)
	sdLines := run(t, sd)
	jc := source.Journalctl(opt)
	assert.Equal(t, run(t, jc), sdLines, "sd-journal and journalctl")
	sp, jp := sd.Position(), jc.Position()
	assert.Equal(t, jp.Journal, sp.Journal, "the cursor")
	assert.True(t, jp.Time.Equal(sp.Time), "cursor times %v, %v", jp.Time, sp.Time)
	return sdLines
}

func TestSDJournalSameAsJournalctl(t *testing.T) {
	_, opt := sdJournal(t)
	require.Equal(t, "*source.sdJournalSource", source.JournalType(opt), "with -tags sdjournal, journald is read through sd-journal")
	var note bytes.Buffer
	opt.Log = &note
	lines := both(t, opt)
	assert.NotContains(t, note.String(), "journalctl", "libsystemd loads here: no fallback")
	require.Len(t, lines, 67)
	assert.Contains(t, lines[len(lines)-1].Text, `comm="caf`+"\xe9"+`"`, "a MESSAGE that is not UTF-8 arrives as its bytes")

	// Resuming at the position returned: nothing new, the position kept.
	sd := source.Journal(opt)
	run(t, sd)
	cur := &source.Cursor{}
	cur.Set(sd.Position())
	ropt := opt
	ropt.Cursor = cur
	again := source.Journal(ropt)
	assert.Empty(t, run(t, again))
	assert.Equal(t, sd.Position().Journal, again.Position().Journal, "the cursor stays where it was")
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

	// Resume after an entry in the middle: the kernel copy of serial
	// 1006. Were the entry at the cursor read again, it would be the first
	// line.
	ents := journalEntries(t, jf)
	require.Greater(t, len(ents), 2)
	at := ents[1]
	require.Equal(t, "kernel", at["_TRANSPORT"])
	require.Contains(t, at["MESSAGE"], ":1006)")
	copt := opt
	copt.Cursor = &source.Cursor{}
	copt.Cursor.Set(source.Position{Source: "journald", Journal: at["__CURSOR"].(string)})
	lines := both(t, copt)
	require.Len(t, lines, 65)
	for _, l := range lines {
		assert.NotContains(t, l.Text, ":1006)")
	}

	// From a time: the same lines as journalctl --since.
	sopt := opt
	sopt.Since = time.Unix(1795341650, 0)
	lines = both(t, sopt)
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0].Text, ":9001)")
}

func TestSDJournalFollow(t *testing.T) {
	jf, opt := sdJournal(t)
	opt.Follow = true
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 128)
	src := source.Journal(opt)
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(l *source.Line) error {
			got <- string(l.Text)
			return nil
		})
	}()
	next := func(what string) string {
		t.Helper()
		select {
		case s := <-got:
			return s
		case err := <-done:
			t.Fatalf("journal follow stopped waiting for %s: %v", what, err)
		case <-time.After(30 * time.Second):
			t.Fatalf("journal follow: no %s after 30s", what)
		}
		return ""
	}
	for i := range 67 {
		next("line " + strconv.Itoa(i+1) + " of 67")
	}

	// An entry written while following is delivered.
	export := filepath.Join(t.TempDir(), "late.export")
	testutil.WriteFile(t, export, []byte("__REALTIME_TIMESTAMP=1795341700000000\n"+
		"__MONOTONIC_TIMESTAMP=10900000000\n"+
		"_BOOT_ID=fedcba9876543210fedcba9876543210\n"+
		"_TRANSPORT=kernel\n"+
		`MESSAGE=audit: type=1400 audit(1795341700.000:9100): apparmor="DENIED" operation="open" class="file" profile="/usr/sbin/exampled" name="/etc/shadow" pid=1300 comm="late" requested_mask="r" denied_mask="r" fsuid=0 ouid=0`+"\n\n"))
	writeJournal(t, jf, export)
	assert.Contains(t, next("the entry written while following"), ":9100)")

	// Cancelled: it stops cleanly, its position at that last entry.
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("journal follow did not stop on cancel")
	}
	opt.Follow = false
	jc := source.Journalctl(opt)
	run(t, jc)
	assert.Equal(t, jc.Position().Journal, src.Position().Journal)
	select {
	case s := <-got:
		t.Errorf("%q delivered after the follow ended", s)
	default:
	}
}

func TestSDJournalFallback(t *testing.T) {
	_, opt := sdJournal(t)
	var note bytes.Buffer
	opt.Log = &note
	src := source.JournalNoLibsystemd(opt)
	lines := run(t, src)
	assert.Contains(t, note.String(), "libsystemd cannot be loaded")
	assert.Contains(t, note.String(), "reading with journalctl")
	opt.Log = nil
	jc := source.Journalctl(opt)
	assert.Equal(t, run(t, jc), lines, "no libsystemd: read through journalctl rather than fail")
	assert.Equal(t, jc.Position().Journal, src.Position().Journal, "the fallback's cursor")
}

func TestSDJournalMissingFile(t *testing.T) {
	jf := filepath.Join(t.TempDir(), "none.journal")
	err := source.Journal(source.Options{JournalFile: jf}).Run(context.Background(), func(*source.Line) error { return nil })
	require.Error(t, err, "a journal that cannot be opened is an error, not a fallback")
	assert.Contains(t, err.Error(), "journal "+jf)
}
