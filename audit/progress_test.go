package audit_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/loggen"
)

func TestReadProgress(t *testing.T) {
	data, _ := genLog(t, loggen.AuditLog, 20000, 3)
	lines := strings.Count(string(data), "\n")
	require.Greater(t, lines, 2*audit.ProgressEvery)
	path := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(path, data, 0o644))

	var got []audit.Progress
	res, err := audit.Read(context.Background(), audit.ReadOptions{From: []string{path}, Progress: func(p audit.Progress) { got = append(got, p) }},
		func(*audit.Event) error { return nil })
	require.NoError(t, err)
	require.Len(t, got, lines/audit.ProgressEvery+1)
	for i, p := range got[:len(got)-1] {
		assert.Equal(t, (i+1)*audit.ProgressEvery, p.Lines)
		assert.Equal(t, path, p.Source)
		assert.Equal(t, path, p.File)
		assert.False(t, p.Done)
		// The offset is the end of the line counted: the next byte
		// starts a line.
		assert.Equal(t, p.Lines, strings.Count(string(data[:p.Offset]), "\n"))
		if i > 0 {
			assert.Greater(t, p.Records, got[i-1].Records)
		}
	}
	last := got[len(got)-1]
	assert.True(t, last.Done)
	assert.Equal(t, lines, last.Lines)
	assert.Equal(t, res.Stats.Records, last.Records)
	assert.Equal(t, int64(len(data)), last.Offset, "the whole file was read")
}

func TestReadProgressGzipAndStdin(t *testing.T) {
	data, _ := genLog(t, loggen.Syslog, 3000, 4)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	_, err := w.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	path := filepath.Join(t.TempDir(), "syslog.gz")
	require.NoError(t, os.WriteFile(path, gz.Bytes(), 0o644))

	var last audit.Progress
	_, err = audit.Read(context.Background(), audit.ReadOptions{From: []string{path}, Progress: func(p audit.Progress) { last = p }},
		func(*audit.Event) error { return nil })
	require.NoError(t, err)
	assert.True(t, last.Done)
	assert.Equal(t, int64(len(data)), last.Offset, "a gzip file's offset counts decompressed bytes")

	last = audit.Progress{}
	_, err = audit.Read(context.Background(), audit.ReadOptions{From: []string{"-"}, Stdin: bytes.NewReader(data), Progress: func(p audit.Progress) { last = p }},
		func(*audit.Event) error { return nil })
	require.NoError(t, err)
	assert.True(t, last.Done)
	assert.Equal(t, strings.Count(string(data), "\n"), last.Lines)
	assert.Equal(t, "-", last.Source)
	assert.Zero(t, last.Offset, "standard input has no offset")
}
