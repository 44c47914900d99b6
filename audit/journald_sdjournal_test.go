//go:build sdjournal && cgo

package audit_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
)

// TestSDJournalRead reads a real journal through the sd-journal build:
// the records of both transports are returned once, with their companions.
// (The source itself is tested against journalctl in audit/source.)
func TestSDJournalRead(t *testing.T) {
	dir := t.TempDir()
	jf := filepath.Join(dir, "test.journal")
	writeJournal(t, jf, filepath.Join("source", "testdata", "journal.export"))
	opt := noHost(dir)
	opt.JournalFile = jf
	var note bytes.Buffer
	opt.Log = &note
	evs, res := collect(t, opt)
	assert.NotContains(t, note.String(), "journalctl", "libsystemd loads here: no fallback")
	require.Equal(t, 21, len(evs))
	last := evs[len(evs)-1]
	assert.Equal(t, uint64(9001), last.Serial)
	assert.Equal(t, "caf\xe9", last.Comm, "a MESSAGE that is not UTF-8 arrives as its bytes")
	withExe := 0
	for _, e := range evs {
		if e.Exe != "" {
			withExe++
		}
	}
	assert.Positive(t, withExe, "SYSCALL companions from the audit transport attach")
	assert.Equal(t, 20, res.Stats.Duplicates)
	assert.Empty(t, res.Stats.Malformed)

	sc := res.Cursor.Get("journald")
	require.NotNil(t, sc)
	assert.Contains(t, sc.Journal, "s=")
	ropt := opt
	ropt.Cursor = &res.Cursor
	again, res2 := collect(t, ropt)
	assert.Empty(t, again)
	assert.Equal(t, sc.Journal, res2.Cursor.Get("journald").Journal, "the cursor stays where it was")
}

func TestSDJournalMissingFile(t *testing.T) {
	dir := t.TempDir()
	opt := noHost(dir)
	opt.JournalFile = filepath.Join(dir, "none.journal")
	_, err := audit.Read(context.Background(), opt, func(*audit.Event) error { return nil })
	require.Error(t, err, "a journal that cannot be opened is an error, not a fallback")
	assert.Contains(t, err.Error(), "journal "+opt.JournalFile)
}
