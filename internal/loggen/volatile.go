package loggen

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

// Workload is what the service does.
type Workload string

// The workloads.
const (
	// Fixed is a service that touches the same few files all the time
	// (the default).
	Fixed Workload = ""
	// Volatile is a service whose names change from run to run, as real
	// ones' do: per-process temp dirs (/tmp/myapp-483920/), mktemp files
	// in them, a content-addressed data tree (data/3f/9a1c…), numbered
	// state files in its home, /proc/PID/…, hourly archives named by the
	// epoch, reports named by an ISO time, uuid-named uploads and rotated
	// logs, besides its fixed config, libraries, logs, network and
	// capabilities. Day picks the run: the same files, new pids and new
	// random names.
	Volatile Workload = "volatile"
	// Distinct is a file read of a new data-tree object in every record:
	// as many distinct names as records (memory and linearity benches).
	Distinct Workload = "distinct"
)

// The volatile service: runs as its own user, with its home and data.
const (
	svcUID   = 1001
	svcHome  = "/home/myapp"
	svcData  = "/var/lib/myapp/data/"
	svcExe   = "/usr/sbin/myappd"
	svcTemps = 6 // per-process temp dirs alive at a time
)

var (
	svcReads = []string{
		"/etc/myapp/myapp.conf", "/etc/ssl/openssl.cnf", "/etc/ld.so.cache", "/etc/nsswitch.conf",
		"/etc/passwd", "/etc/hosts", "/etc/resolv.conf", "/usr/share/zoneinfo/UTC",
		"/usr/lib/x86_64-linux-gnu/libssl.so.3", "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
		"/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13",
		"/proc/sys/kernel/random/boot_id", "/sys/devices/system/cpu/online",
		"/usr/share/myapp/templates/index.html", "/usr/share/myapp/templates/report.html",
	}
	svcWrites = []string{
		"/var/log/myapp/myapp.log", "/var/log/myapp/access.log", "/run/myapp/myapp.pid",
		"/var/lib/myapp/myapp.db", "/var/lib/myapp/myapp.db-wal",
	}
	svcProc = []string{"stat", "status", "cmdline", "fd/", "statm", "mountinfo"}
)

// volatileState is what a volatile service has going: its pids, temp
// dirs, counters.
type volatileState struct {
	pids  []int
	temps []string // /tmp/myapp-PID/ of live workers
	state int      // next state-N.json
}

func (g *gen) initVolatile() {
	day := max(g.opt.Day, 1)
	v := &volatileState{state: 1 + (day-1)*500}
	base := 2000 + (day*7919)%20000
	for i := 0; i < 40; i++ {
		v.pids = append(v.pids, base+i*37+g.rng.IntN(30))
	}
	for i := 0; i < svcTemps; i++ {
		v.temps = append(v.temps, "/tmp/myapp-"+strconv.Itoa(v.pids[i])+"/")
	}
	g.vol = v
}

// hexName is n random hex digits.
func (g *gen) hexName(n int) string {
	b := make([]byte, (n+1)/2)
	for i := range b {
		b[i] = byte(g.rng.Uint32())
	}
	return hex.EncodeToString(b)[:n]
}

const mktempChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// mktemp is a mktemp(1) name: tmp. and ten random letters and digits.
func (g *gen) mktemp() string {
	b := []byte("tmp.0123456789")
	for i := 4; i < len(b); i++ {
		b[i] = mktempChars[g.rng.IntN(len(mktempChars))]
	}
	return string(b)
}

func (g *gen) uuid() string {
	h := g.hexName(32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

// dataObject is a new object of the data tree: data/XX/38 hex digits.
func (g *gen) dataObject() string {
	h := g.hexName(40)
	return svcData + h[:2] + "/" + h[2:]
}

// volatileFile is one file access of the volatile service: the path, the
// mask, and the owner of the file.
func (g *gen) volatileFile() (name, mask string, ouid int) {
	v := g.vol
	switch k := g.rng.IntN(100); {
	case k < 22:
		return g.pick(svcReads), "r", 0
	case k < 32:
		return g.pick(svcWrites), "w", svcUID
	case k < 44: // its own /proc entries
		pid := v.pids[g.rng.IntN(len(v.pids))]
		f := g.pick(svcProc)
		if g.rng.IntN(5) == 0 {
			f = "task/" + strconv.Itoa(pid+1+g.rng.IntN(4)) + "/stat"
		}
		return "/proc/" + strconv.Itoa(pid) + "/" + f, "r", svcUID
	case k < 54: // per-process temp dirs and mktemp files in them
		i := g.rng.IntN(len(v.temps))
		if g.rng.IntN(50) == 0 {
			// a worker exits, a new one starts
			v.temps[i] = "/tmp/myapp-" + strconv.Itoa(v.pids[g.rng.IntN(len(v.pids))]+g.rng.IntN(9000)) + "/"
		}
		switch g.rng.IntN(4) {
		case 0:
			return v.temps[i], "c", svcUID
		case 1:
			return v.temps[i] + "worker.sock", "rw", svcUID
		default:
			return v.temps[i] + g.mktemp(), "wc", svcUID
		}
	case k < 70: // the data tree
		if g.rng.IntN(3) == 0 {
			return g.dataObject(), "wc", svcUID
		}
		return g.dataObject(), "r", svcUID
	case k < 78: // numbered state files in its home
		if g.rng.IntN(4) == 0 {
			v.state++
		}
		return svcHome + "/.local/state/myapp/state-" + strconv.Itoa(v.state) + ".json", "rw", svcUID
	case k < 84: // hourly archives named by the epoch
		hour := g.t.Truncate(time.Hour)
		return "/var/backups/myapp/archive-" + strconv.FormatInt(hour.Unix(), 10) + ".tar.gz", "wc", svcUID
	case k < 89: // reports named by the ISO time
		return "/var/lib/myapp/reports/report-" + g.t.Truncate(time.Minute).Format("2006-01-02T15:04:05") + ".json", "wc", svcUID
	case k < 95: // uploads named by uuid
		return "/var/lib/myapp/uploads/" + g.uuid() + ".json", "r", svcUID
	default: // rotated logs
		n := 1 + g.rng.IntN(5)
		if n == 1 {
			return "/var/log/myapp/myapp.log.1", "r", svcUID
		}
		return "/var/log/myapp/myapp.log." + strconv.Itoa(n) + ".gz", "r", svcUID
	}
}

// volatileRecord writes one record of the volatile or distinct workload:
// mostly file accesses, and the fixed rest of a service (exec, network,
// capabilities).
func (g *gen) volatileRecord(b []byte) ([]byte, string, int, string) {
	v := g.vol
	pid := v.pids[g.rng.IntN(len(v.pids))]
	comm := "myappd"
	prof := g.opt.Profile
	var name, mask string
	ouid := svcUID
	switch k := g.rng.IntN(100); {
	case g.opt.Workload == Distinct:
		name, mask = g.dataObject(), "r"
	case k < 90:
		name, mask, ouid = g.volatileFile()
	case k < 93:
		b = g.common(b, "exec", "file", prof)
		b = append(b, ` name="/usr/bin/gzip"`...)
		b = g.proc(b, pid, comm)
		b = fmt.Appendf(b, ` requested_mask="x" denied_mask="x" fsuid=%d ouid=0 target="%s//null-/usr/bin/gzip"`, svcUID, prof)
		return b, "exec", pid, comm
	case k < 97:
		b = g.common(b, "connect", "net", prof)
		b = g.proc(b, pid, comm)
		b = append(b, ` family="inet" sock_type="stream" protocol=6 requested_mask="connect" denied_mask="connect"`...)
		return b, "connect", pid, comm
	default:
		b = g.common(b, "capable", "cap", prof)
		b = g.proc(b, pid, comm)
		b = append(b, ` capability=10 capname="net_bind_service"`...)
		return b, "capable", pid, comm
	}
	op := "open"
	if mask == "c" {
		op = "mkdir"
	}
	b = g.common(b, op, "file", prof)
	b = append(b, ` name="`...)
	b = append(b, name...)
	b = append(b, '"')
	b = g.proc(b, pid, comm)
	b = fmt.Appendf(b, ` requested_mask="%s" denied_mask="%s" fsuid=%d ouid=%d`, mask, mask, svcUID, ouid)
	return b, op, pid, comm
}
