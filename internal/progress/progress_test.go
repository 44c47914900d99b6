package progress

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
)

func TestLine(t *testing.T) {
	for _, tc := range []struct {
		p       audit.Progress
		size    int64
		elapsed time.Duration
		want    string
	}{
		{audit.Progress{File: "/var/log/audit/audit.log", Lines: 1_234_567, Records: 340_000, Offset: 312_000_000}, 449_000_000, 3 * time.Second,
			"reading /var/log/audit/audit.log: 1.2M lines, 340k records (411k lines/s), 312 MB of 449 MB (69%)"},
		{audit.Progress{File: "syslog.2.gz", Lines: 16384, Records: 950, Offset: 5_500_000}, 0, time.Second,
			"reading syslog.2.gz: 16k lines, 950 records (16k lines/s), 6 MB"},
		{audit.Progress{File: "journald", Lines: 20_000_000, Records: 1500}, 0, 0,
			"reading journald: 20M lines, 1.5k records"},
		{audit.Progress{File: "grown.log", Lines: 10, Offset: 2000}, 1000, time.Second,
			"reading grown.log: 10 lines, 0 records (10 lines/s), 2 kB"},
	} {
		assert.Equal(t, tc.want, Line(tc.p, tc.size, tc.elapsed))
	}
}

func TestMeter(t *testing.T) {
	var out bytes.Buffer
	clock := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	m := New(&out)
	m.now = func() time.Time { return clock }
	m.start = clock
	clock = clock.Add(time.Second)
	path := filepath.Join(t.TempDir(), "audit.log")
	require.NoError(t, os.WriteFile(path, make([]byte, 1000), 0o644))

	m.Update(audit.Progress{File: path, Lines: 100, Offset: 250})
	assert.Equal(t, "\rreading "+path+": 100 lines, 0 records (100 lines/s), 250 B of 1 kB (25%)\x1b[K", out.String())
	out.Reset()
	clock = clock.Add(Interval / 2)
	m.Update(audit.Progress{File: path, Lines: 200, Offset: 500})
	assert.Empty(t, out.String(), "no redraw before the interval")
	clock = clock.Add(Interval)
	m.Update(audit.Progress{File: path, Lines: 300, Offset: 750})
	assert.Contains(t, out.String(), "300 lines")
	assert.Contains(t, out.String(), "(75%)")
	out.Reset()
	m.Update(audit.Progress{File: path, Lines: 400, Offset: 1000, Done: true})
	assert.Equal(t, "\r\x1b[K", out.String(), "done: the line is cleared")

	out.Reset()
	m.Update(audit.Progress{File: path, Lines: 10, Done: true})
	assert.Empty(t, out.String(), "nothing drawn, nothing to clear")

	var nilMeter *Meter
	assert.Nil(t, nilMeter.Func())
	assert.NotNil(t, m.Func())
}

func TestMeterOnARead(t *testing.T) {
	var lines []string
	for i := 0; i < 3*audit.ProgressEvery; i++ {
		lines = append(lines, "unrelated line")
	}
	path := filepath.Join(t.TempDir(), "big.log")
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	var out bytes.Buffer
	m := New(&out)
	m.interval = 0
	_, err := audit.Read(t.Context(), audit.ReadOptions{From: []string{path}, Progress: m.Func()}, func(*audit.Event) error { return nil })
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(out.String(), "\r\x1b[K"[:1]+"reading "), out.String())
	assert.Contains(t, out.String(), "(100%)")
	assert.True(t, strings.HasSuffix(out.String(), "\r\x1b[K"))
}
