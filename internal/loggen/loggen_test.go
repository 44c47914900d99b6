package loggen_test

import (
	"bufio"
	"bytes"
	"encoding/json"
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
