package seccomp

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Audit architecture values (AUDIT_ARCH_* in include/uapi/linux/audit.h)
// as a SECCOMP record's arch= carries them.
const (
	AuditArchX86_64  uint32 = 0xc000003e
	AuditArchAARCH64 uint32 = 0xc00000b7
)

var (
	//go:embed data/syscalls-x86_64.txt
	tableX86_64 []byte
	//go:embed data/syscalls-aarch64.txt
	tableAARCH64 []byte
)

// Table maps one architecture's system call numbers to names.
type Table struct {
	Arch    string // the name libseccomp gives it: SCMP_ARCH_X86_64, ...
	byNum   map[int64]string
	byName  map[string]int64
	sources string
}

// tables is built once from the embedded data; it never changes after.
var tables = sync.OnceValues(func() (map[uint32]*Table, error) {
	out := map[uint32]*Table{}
	for _, t := range []struct {
		arch   uint32
		name   string
		file   string
		source []byte
	}{
		{AuditArchX86_64, "SCMP_ARCH_X86_64", "data/syscalls-x86_64.txt", tableX86_64},
		{AuditArchAARCH64, "SCMP_ARCH_AARCH64", "data/syscalls-aarch64.txt", tableAARCH64},
	} {
		tb, err := parseTable(t.source, t.file)
		if err != nil {
			return nil, err
		}
		tb.Arch = t.name
		out[t.arch] = tb
	}
	return out, nil
})

func parseTable(data []byte, file string) (*Table, error) {
	t := &Table{byNum: map[int64]string{}, byName: map[string]int64{}, sources: file}
	sc := bufio.NewScanner(bytes.NewReader(data))
	n := 0
	for sc.Scan() {
		n++
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		num, name, ok := strings.Cut(l, " ")
		nr, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || name == "" {
			return nil, fmt.Errorf("%s line %d: %q is not NUMBER NAME", file, n, l)
		}
		t.byNum[nr], t.byName[name] = name, nr
	}
	return t, sc.Err()
}

// TableFor returns the table of an audit architecture; ok is false for an
// architecture aarch64 and x86_64 tables do not cover (32-bit compat calls
// among them).
func TableFor(auditArch uint32) (*Table, bool) {
	ts, err := tables()
	if err != nil {
		// The embedded tables are checked by the tests; a broken build
		// names no syscall rather than a wrong one.
		return nil, false
	}
	t, ok := ts[auditArch]
	return t, ok
}

// Name returns the name of system call nr.
func (t *Table) Name(nr int64) (string, bool) {
	n, ok := t.byNum[nr]
	return n, ok
}

// Number returns the number of a system call by name.
func (t *Table) Number(name string) (int64, bool) {
	n, ok := t.byName[name]
	return n, ok
}
