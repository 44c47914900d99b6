package audit_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/internal/loggen"
)

// BenchmarkRead measures Read over a generated log file, end to end:
// reading, splitting lines, parsing, grouping companions, deduplicating.
// One op is the whole file (50,000 records).
func BenchmarkRead(b *testing.B) {
	for _, f := range []loggen.Format{loggen.AuditLog, loggen.Syslog} {
		b.Run(string(f), func(b *testing.B) {
			var buf bytes.Buffer
			st, err := loggen.Write(&buf, loggen.Options{Records: 50000, Seed: 1, Format: f})
			if err != nil {
				b.Fatal(err)
			}
			path := filepath.Join(b.TempDir(), "audit.log")
			if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				_, err := audit.Read(context.Background(), audit.ReadOptions{From: []string{path}}, func(*audit.Event) error {
					n++
					return nil
				})
				if err != nil || n != st.Records {
					b.Fatalf("read %d of %d records: %v", n, st.Records, err)
				}
			}
			b.ReportMetric(float64(st.Records)*float64(b.N)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
