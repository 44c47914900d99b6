//go:build linux

package audit

import (
	"strconv"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user+system time: on a shared machine it says
// more about the code than wall time, which other processes inflate.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds a cpu-ns/op metric to a benchmark; call it deferred.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		}
	}
}

// benchLines is an audit.log mix as a learning host writes it: AppArmor
// AVCs (file, network, capability, hex-encoded names) with their SYSCALL,
// PATH and PROCTITLE records, and other audit records around them.
func benchLines() [][]byte {
	var lines [][]byte
	for i := 0; i < 1000; i++ {
		ts := "audit(1700000000." + strconv.Itoa(100+i%900) + ":" + strconv.Itoa(10000+i) + "): "
		switch i % 5 {
		case 0, 1:
			lines = append(lines, []byte(`type=AVC msg=`+ts+`apparmor="ALLOWED" operation="open" class="file" profile="/usr/sbin/nginx" name="/var/www/html/assets/img/logo-`+strconv.Itoa(i)+`.png" pid=`+strconv.Itoa(2000+i)+` comm="nginx" requested_mask="r" denied_mask="r" fsuid=33 ouid=0`))
		case 2:
			lines = append(lines, []byte(`type=AVC msg=`+ts+`apparmor="DENIED" operation="connect" class="net" profile="/usr/sbin/nginx" pid=2001 comm="nginx" laddr=10.0.0.5 lport=45658 faddr=10.0.0.9 fport=5432 family="inet" sock_type="stream" protocol=6 requested="send receive connect" denied="send receive connect"`))
		case 3:
			lines = append(lines, []byte(`type=AVC msg=`+ts+`apparmor="ALLOWED" operation="mknod" class="file" profile="/usr/sbin/nginx" name=2F7661722F63616368652F6E67696E782F612062 pid=2001 comm="nginx" requested_mask="c" denied_mask="c" fsuid=33 ouid=33`+"\x1dFSUID=\"www-data\" OUID=\"www-data\""))
		case 4:
			lines = append(lines, []byte(`type=AVC msg=`+ts+`apparmor="DENIED" operation="capable" class="cap" profile="/usr/sbin/nginx" pid=2001 comm="nginx" capability=12  capname="net_admin"`))
		}
		lines = append(lines,
			[]byte(`type=SYSCALL msg=`+ts+`arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd2c a2=80000 a3=0 items=1 ppid=1 pid=2001 auid=4294967295 uid=33 gid=33 euid=33 suid=33 fsuid=33 egid=33 sgid=33 fsgid=33 tty=(none) ses=4294967295 comm="nginx" exe="/usr/sbin/nginx" subj=/usr/sbin/nginx (complain) key=(null)`+"\x1dARCH=x86_64 SYSCALL=openat AUID=\"unset\" UID=\"www-data\""),
			[]byte(`type=CWD msg=`+ts+`cwd="/"`),
			[]byte(`type=PATH msg=`+ts+`item=0 name="/var/www/html/index.html" inode=1234 dev=08:01 mode=0100644 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0`),
			[]byte(`type=PROCTITLE msg=`+ts+`proctitle=6E67696E783A20776F726B65722070726F63657373`),
			[]byte(`type=USER_ACCT msg=audit(1700000000.200:`+strconv.Itoa(20000+i)+`): pid=9 uid=0 auid=4294967295 ses=4294967295 subj=unconfined msg='op=PAM:accounting grantors=pam_permit acct="root" exe="/usr/sbin/cron" hostname=? addr=? terminal=cron res=success'`),
		)
	}
	return lines
}

func benchBytes(lines [][]byte) int64 {
	var n int64
	for _, l := range lines {
		n += int64(len(l)) + 1
	}
	return n
}

// BenchmarkParse parses the mix line by line; ns/op is per line.
func BenchmarkParse(b *testing.B) {
	lines := benchLines()
	b.SetBytes(benchBytes(lines) / int64(len(lines)))
	b.ReportAllocs()
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		if _, err := Parse(lines[i]); err != nil {
			b.Fatal(err)
		}
		i++
		if i == len(lines) {
			i = 0
		}
	}
}

// BenchmarkParseAVC parses AppArmor records only.
func BenchmarkParseAVC(b *testing.B) {
	var lines [][]byte
	for _, l := range benchLines() {
		if rec, _ := Parse(l); rec != nil && rec.Event != nil {
			lines = append(lines, l)
		}
	}
	b.SetBytes(benchBytes(lines) / int64(len(lines)))
	b.ReportAllocs()
	defer reportCPU(b)()
	i := 0
	for b.Loop() {
		if _, err := Parse(lines[i]); err != nil {
			b.Fatal(err)
		}
		i++
		if i == len(lines) {
			i = 0
		}
	}
}

// BenchmarkDecoder feeds the mix through one Decoder (companions, dedupe,
// serial tracking); ns/op is per line.
func BenchmarkDecoder(b *testing.B) {
	lines := benchLines()
	b.SetBytes(benchBytes(lines) / int64(len(lines)))
	b.ReportAllocs()
	defer reportCPU(b)()
	d := NewDecoder()
	i, events := 0, 0
	for b.Loop() {
		events += len(d.Feed(lines[i], "audit.log", i+1))
		i++
		if i == len(lines) {
			i = 0
			events += len(d.Flush())
			d = NewDecoder()
		}
	}
	_ = events
}
