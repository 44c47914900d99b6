//go:build linux

package audit

import "testing"

// BenchmarkScanBody measures the key=value scanner alone on an AVC body.
func BenchmarkScanBody(b *testing.B) {
	body := `apparmor="ALLOWED" operation="open" class="file" profile="/usr/sbin/appd" name="/var/lib/app/data/cache/file-12345.db" pid=4242 comm="appd" requested_mask="r" denied_mask="r" fsuid=1000 ouid=0`
	b.SetBytes(int64(len(body)))
	defer reportCPU(b)()
	var e Event
	for b.Loop() {
		e = Event{}
		if err := scanBody(body, 0, false, &e, nil); err != nil {
			b.Fatal(err)
		}
	}
}
