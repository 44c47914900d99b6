package loggen_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/loggen"
)

// Every form the generator writes parses with zero malformed lines, and the
// decoder finds exactly the records written, by mode.
func TestOutputParses(t *testing.T) {
	for _, f := range []loggen.Format{loggen.AuditLog, loggen.Syslog, loggen.Kmsg, loggen.JournalJSON} {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			st, err := loggen.Write(&buf, loggen.Options{Records: 5000, Seed: 7, Format: f})
			require.NoError(t, err)
			require.Equal(t, 5000, st.Records)
			d := audit.NewDecoder()
			var events []*audit.Event
			sc := bufio.NewScanner(&buf)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			n := 0
			for sc.Scan() {
				n++
				line := sc.Bytes()
				switch f {
				case loggen.Kmsg:
					if len(line) > 0 && line[0] == ' ' {
						continue
					}
					line = line[bytes.IndexByte(line, ';')+1:]
				case loggen.JournalJSON:
					var e struct {
						Transport string `json:"_TRANSPORT"`
						AuditID   uint64 `json:"_AUDIT_ID,string"`
						Time      int64  `json:"_SOURCE_REALTIME_TIMESTAMP,string"`
						Message   string `json:"MESSAGE"`
					}
					require.NoError(t, json.Unmarshal(line, &e))
					if e.Transport == "audit" {
						events = append(events, d.FeedMessage([]byte(e.Message), audit.MessageDefaults{Serial: e.AuditID, Time: time.UnixMicro(e.Time)}, "j", n)...)
						continue
					}
					line = []byte(e.Message)
				}
				events = append(events, d.Feed(line, "gen", n)...)
			}
			require.NoError(t, sc.Err())
			events = append(events, d.Flush()...)
			s := d.Stats()
			assert.Empty(t, s.Malformed)
			assert.Equal(t, st.Records, len(events), "events")
			modes := map[string]int{}
			withExe := 0
			for _, e := range events {
				modes[string(e.Mode)]++
				if e.Exe != "" {
					withExe++
				}
			}
			assert.Equal(t, st.ByMode, modes)
			if f != loggen.JournalJSON {
				// About half carry their SYSCALL companion's exe.
				assert.InDelta(t, st.Companions/2, withExe, 1)
			}
			assert.Empty(t, s.Lost)
		})
	}
}

func TestDeterministic(t *testing.T) {
	var a, b, c bytes.Buffer
	_, err := loggen.Write(&a, loggen.Options{Records: 500, Seed: 3, Format: loggen.AuditLog})
	require.NoError(t, err)
	_, err = loggen.Write(&b, loggen.Options{Records: 500, Seed: 3, Format: loggen.AuditLog})
	require.NoError(t, err)
	_, err = loggen.Write(&c, loggen.Options{Records: 500, Seed: 4, Format: loggen.AuditLog})
	require.NoError(t, err)
	assert.Equal(t, a.String(), b.String())
	assert.NotEqual(t, a.String(), c.String())
	_, err = loggen.Write(&a, loggen.Options{Records: 1, Format: "nope"})
	assert.Error(t, err)
}

// names are the file names of a log's records, with how often each was
// named.
func names(t *testing.T, opt loggen.Options) map[string]int {
	var buf bytes.Buffer
	opt.Format = loggen.AuditLog
	_, err := loggen.Write(&buf, opt)
	require.NoError(t, err)
	d := audit.NewDecoder()
	out := map[string]int{}
	sc := bufio.NewScanner(&buf)
	n := 0
	for sc.Scan() {
		n++
		for _, e := range d.Feed(sc.Bytes(), "gen", n) {
			if e.Name != "" {
				out[e.Name]++
			}
		}
	}
	for _, e := range d.Flush() {
		if e.Name != "" {
			out[e.Name]++
		}
	}
	assert.Empty(t, d.Stats().Malformed)
	return out
}

// The volatile service names many distinct files of the shapes inference
// must recognise, and its second day names the same fixed files with new
// pids and new random names.
func TestVolatileWorkload(t *testing.T) {
	day1 := names(t, loggen.Options{Records: 20000, Seed: 1, Workload: loggen.Volatile, Day: 1})
	day2 := names(t, loggen.Options{Records: 20000, Seed: 1, Workload: loggen.Volatile, Day: 2})
	assert.Greater(t, len(day1), 5000, "distinct names")
	for _, want := range []string{`^/tmp/myapp-[0-9]+/$`, `^/tmp/myapp-[0-9]+/tmp\.[A-Za-z0-9]{10}$`, `^/var/lib/myapp/data/[0-9a-f]{2}/[0-9a-f]{38}$`,
		`^/home/myapp/\.local/state/myapp/state-[0-9]+\.json$`, `^/proc/[0-9]+/task/[0-9]+/stat$`, `^/var/backups/myapp/archive-1[0-9]{9}\.tar\.gz$`,
		`^/var/lib/myapp/reports/report-2026-11-2[23]T[0-9:]{8}\.json$`, `^/var/lib/myapp/uploads/[0-9a-f-]{36}\.json$`, `^/var/log/myapp/myapp\.log\.[2-5]\.gz$`} {
		re := regexp.MustCompile(want)
		found := 0
		for n := range day1 {
			if re.MatchString(n) {
				found++
			}
		}
		assert.Positive(t, found, want)
	}
	same, volatile := 0, 0
	for n := range day2 {
		if day1[n] > 0 {
			same++
		} else {
			volatile++
		}
	}
	// 16 files read, 5 written, 5 rotated logs, 1 program run.
	assert.Equal(t, 27, same, "only the fixed files are named on both days")
	assert.Greater(t, volatile, 5000)
	assert.Equal(t, 20000, sum(names(t, loggen.Options{Records: 20000, Seed: 1, Workload: loggen.Distinct})), "one name a record")
	assert.Len(t, names(t, loggen.Options{Records: 20000, Seed: 1, Workload: loggen.Distinct}), 20000)
	_, err := loggen.Write(&bytes.Buffer{}, loggen.Options{Records: 1, Format: loggen.AuditLog, Workload: "nope"})
	assert.Error(t, err)
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
