package propose_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aa-flow/aa-flow/audit"
	"github.com/aa-flow/aa-flow/propose"
)

// benchEvents is a complain window of n records: reads of a few hundred
// files, /proc/<pid>/ reads, spool files, sockets, capabilities, signals.
func benchEvents(n int) []*audit.Event {
	out := make([]*audit.Event, 0, n)
	for i := 0; i < n; i++ {
		e := &audit.Event{Mode: audit.ModeAllowed, Profile: "svc", PID: int64(100 + i%5000), Comm: "svc",
			Time: time.Unix(1795343979, 0).Add(time.Duration(i) * time.Millisecond), Serial: uint64(i), Source: "bench.log", Line: i + 1,
			FSUID: 0, OUID: 0, Protocol: audit.Unset, Capability: audit.Unset}
		switch i % 10 {
		case 0, 1, 2:
			e.Operation, e.Name, e.RequestedMask = "open", fmt.Sprintf("/usr/share/svc/data/%03d.dat", i%300), "r"
		case 3, 4:
			e.Operation, e.Name, e.RequestedMask = "open", fmt.Sprintf("/proc/%d/stat", 100+i%5000), "r"
		case 5:
			e.Operation, e.Name, e.RequestedMask = "open", fmt.Sprintf("/var/spool/svc/job%05d", i%2000), "wc"
		case 6:
			e.Operation, e.Family, e.SockType, e.RequestedMask = "connect", "inet", "stream", "connect"
		case 7:
			e.Operation, e.Capname = "capable", []string{"chown", "setuid", "net_bind_service"}[i%3]
		case 8:
			e.Operation, e.RequestedMask, e.Signal, e.Peer = "signal", "send", []string{"term", "hup"}[i%2], "svc"
		default:
			e.Operation, e.Name, e.RequestedMask = "file_mmap", fmt.Sprintf("/usr/lib/x86_64-linux-gnu/libsvc%d.so.1.2.%d", i%20, i%3), "mr"
		}
		out = append(out, e)
	}
	return out
}

func BenchmarkPropose(b *testing.B) {
	events := benchEvents(200_000)
	opts := propose.ProposeOptions{Vars: tunablesVars()}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		prop, err := propose.Propose(nil, "svc", events, opts)
		if err != nil || len(prop.Rules) == 0 {
			b.Fatal(err, len(prop.Rules))
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
