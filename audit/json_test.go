package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aa-flow/aa-flow/internal/testutil"
)

// TestEventJSONGolden renders every event of testdata/json_input.log (hex
// names with quotes and control characters, bytes that are not UTF-8,
// D-Bus (USER_AVC), network, capability, companions, error=-1, empty values
// (an empty target= is kept), extra keys) and compares with testdata/json.golden (-update rewrites it).
func TestEventJSONGolden(t *testing.T) {
	in := filepath.Join("testdata", "json_input.log")
	d := NewDecoder()
	lines := decReadLines(t, in)
	events := decFeedAll(t, d, "json_input.log", lines)
	require.Empty(t, d.Stats().Malformed)
	require.Len(t, events, 9)

	var got bytes.Buffer
	for _, e := range events {
		b, err := json.Marshal(e)
		require.NoError(t, err)
		require.True(t, json.Valid(b), "%s", b)
		got.Write(b)
		got.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "json.golden")
	if testutil.Update() {
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test -run TestEventJSONGolden -update ./audit to create it")
	assert.Equal(t, string(want), got.String())
}

func TestEventJSONValues(t *testing.T) {
	rec, err := Parse([]byte(`type=AVC msg=audit(1462045985.636:2154): apparmor="DENIED" operation="open" profile="p" name=2F746D702F6120622F pid=7 comm="c" requested_mask="r" denied_mask="r" fsuid=0 ouid=1000 error=-13 odd=2F78`))
	require.NoError(t, err)
	rec.Event.Source, rec.Event.Line = "audit.log", 3
	b, err := json.Marshal(rec.Event)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, map[string]any{
		"apparmor": "DENIED", "operation": "open", "profile": "p", "name": "/tmp/a b/", "pid": 7.0, "comm": "c",
		"requested_mask": "r", "denied_mask": "r", "fsuid": 0.0, "ouid": 1000.0, "error": -13.0, "odd": "/x",
		"type": 1400.0, "serial": 2154.0, "epoch": 1462045985.636, "time": "2016-04-30T19:53:05.636Z",
		"source": "audit.log", "line": 3.0,
	}, m)
	assert.True(t, strings.Contains(string(b), `"epoch":1462045985.636,`), "epoch keeps exactly three decimals: %s", b)
}

// Extra keys never duplicate a key of the object: a repeated or reserved
// name is kept as x-NAME.
func TestEventJSONExtraCollisions(t *testing.T) {
	rec, err := Parse([]byte(`type=AVC msg=audit(1.000:5): apparmor="DENIED" operation="open" time="t" line="l" zz="1" zz="2"`))
	require.NoError(t, err)
	b, err := json.Marshal(rec.Event)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	seen := map[string]bool{}
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		require.False(t, seen[k.(string)], "duplicate key %q in %s", k, b)
		seen[k.(string)] = true
		var v any
		require.NoError(t, dec.Decode(&v))
	}
	for _, k := range []string{"x-time", "x-line", "zz", "x-zz", "time", "serial"} {
		assert.True(t, seen[k], "%s missing from %s", k, b)
	}
}
