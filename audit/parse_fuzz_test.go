package audit

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
)

// FuzzParse checks that no line makes Parse or a Decoder panic, and the
// invariants of what they return. Seeds: every corpus line.
func FuzzParse(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join(testutil.Corpus(f, "libapparmor-test_multi"), "*.in"))
	logs, _ := filepath.Glob(filepath.Join(testutil.Corpus(f, "kernel"), "*.log"))
	for _, p := range append(append(ins, logs...), filepath.Join("testdata", "json_input.log")) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			f.Add([]byte(l))
		}
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		orig := string(line)
		rec, err := Parse(line)
		if string(line) != orig {
			t.Fatal("Parse modified its input")
		}
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			if pe.Column < 1 || pe.Column > len(line)+1 {
				t.Fatalf("column %d outside a line of %d bytes", pe.Column, len(line))
			}
			if rec != nil {
				t.Fatal("record and error both returned")
			}
		}
		if rec != nil {
			if (rec.Event == nil) == (rec.Companion == nil) {
				t.Fatal("a Record must hold exactly one of Event and Companion")
			}
			if e := rec.Event; e != nil {
				if e.Mode == "" {
					t.Fatal("event without a mode")
				}
				b, err := json.Marshal(e)
				if err != nil || !json.Valid(b) {
					t.Fatalf("bad JSON %s: %v", b, err)
				}
			}
			if c := rec.Companion; c != nil && c.Serial == 0 {
				t.Fatal("companion without a serial")
			}
		}
		d := NewDecoder()
		n := len(d.Feed(line, "fuzz", 1))
		n += len(d.Feed(line, "fuzz", 2))
		n += len(d.Flush())
		st := d.Stats()
		if st.Lines != 2 || st.Records+st.Companions+st.Skipped+st.MalformedTotal+st.RefusedTotal != 2 {
			t.Fatalf("counts do not add up: %+v", st)
		}
		if n+st.Duplicates != st.Records {
			t.Fatalf("%d events + %d duplicates != %d records", n, st.Duplicates, st.Records)
		}
	})
}
