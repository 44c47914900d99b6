package audit

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLibapparmorConformance parses every case of AppArmor's own log-parser
// suite (test_multi) and compares the fields with libapparmor's expected
// output. Cases listed in testdata/test_multi_exceptions.txt must differ
// (so the list cannot go stale); every other case must match exactly, or,
// where libapparmor calls the line invalid, be refused too.
func TestLibapparmorConformance(t *testing.T) {
	dir := testutil.Corpus(t, "libapparmor-test_multi")
	ins, err := filepath.Glob(filepath.Join(dir, "*.in"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ins), 179, "test_multi corpus incomplete")
	exceptions := readExceptions(t, filepath.Join("testdata", "test_multi_exceptions.txt"))
	listed := len(exceptions)

	matched := 0
	for _, in := range ins {
		name := strings.TrimSuffix(filepath.Base(in), ".in")
		line, err := os.ReadFile(in)
		require.NoError(t, err)
		want := readOut(t, strings.TrimSuffix(in, ".in")+".out")
		rec, perr := Parse(line)
		got := libapparmorView(rec, perr)
		if want["Event type"] == "AA_RECORD_INVALID" {
			// libapparmor prints, with its verdict, the fields it had
			// read before it gave up: which ones is an artefact of its
			// parser's order. The verdict is what is compared.
			want = map[string]string{"Event type": want["Event type"]}
		}
		if reason, ok := exceptions[name]; ok {
			assert.NotEqual(t, want, got, "%s is listed as an exception (%s) but now matches: remove it from the list", name, reason)
			delete(exceptions, name)
			continue
		}
		if assert.Equal(t, want, got, "%s: %s", name, line) {
			matched++
		}
	}
	assert.Empty(t, exceptions, "exceptions naming cases that do not exist")
	t.Logf("test_multi: %d/%d cases agree with libapparmor, %d differ as listed", matched, len(ins), len(ins)-matched)
	assert.Equal(t, len(ins), matched+listed, "every case agrees or is a listed difference")
}

// readOut reads libapparmor's expected parse: "Key: value" lines.
func readOut(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	m := map[string]string{}
	for _, l := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(l, ": ")
		if !ok || k == "File" {
			continue
		}
		m[k] = v
	}
	return m
}

func readExceptions(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, reason, ok := strings.Cut(l, ":")
		require.True(t, ok, "exception line without reason: %q", l)
		m[strings.TrimSpace(name)] = strings.TrimSpace(reason)
	}
	require.NoError(t, sc.Err())
	return m
}

// libapparmorView presents a parse the way libapparmor's test_multi prints
// it, with libapparmor's own choices of where a key goes (target= and
// name2= both print as Name2, capname= as Name, a D-Bus mask= as Denied
// Mask, the fine-grained network saddr/src/daddr/dest as the local and
// foreign address and port, exe= of a USER_AVC as Command).
func libapparmorView(rec *Record, err error) map[string]string {
	m := map[string]string{}
	if err != nil || rec == nil || rec.Event == nil {
		m["Event type"] = "AA_RECORD_INVALID"
		return m
	}
	e := rec.Event
	set := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	num := func(k string, n int64) {
		if n != Unset {
			m[k] = strconv.FormatInt(n, 10)
		}
	}
	extra := func(k string) string {
		for _, kv := range e.Extra {
			if kv.Key == k {
				return kv.Value
			}
		}
		return ""
	}
	or := func(a, b string) string {
		if a != "" {
			return a
		}
		return b
	}
	m["Event type"] = map[Mode]string{
		ModeAllowed: "AA_RECORD_ALLOWED", ModeDenied: "AA_RECORD_DENIED", ModeAudit: "AA_RECORD_AUDIT",
		ModeStatus: "AA_RECORD_STATUS", ModeHint: "AA_RECORD_HINT", ModeError: "AA_RECORD_ERROR",
	}[e.Mode]
	if e.Serial != 0 {
		m["Audit ID"] = e.ID()
		m["Epoch"] = strconv.FormatInt(e.Time.Unix(), 10)
		m["Audit subid"] = strconv.FormatUint(e.Serial, 10)
	}
	set("Operation", e.Operation)
	if e.Bus != "" {
		set("Denied Mask", e.RequestedMask)
	} else {
		set("Mask", e.RequestedMask)
		set("Denied Mask", e.DeniedMask)
	}
	num("fsuid", e.FSUID)
	num("ouid", e.OUID)
	set("Profile", e.ProfileName())
	set("Peer profile", or(e.PeerProfile, or(e.PeerLabel, extra("tcontext"))))
	set("Peer", e.Peer)
	set("Name", or(e.Name, e.Capname))
	set("Name2", or(e.Name2, e.Target))
	if _, ok := m["Name2"]; !ok && e.TargetSet {
		m["Name2"] = "" // libapparmor prints a target= it read, even empty
	}
	set("Command", or(e.Comm, e.Exe))
	num("Parent", e.Parent)
	num("PID", e.PID)
	num("Peer PID", e.PeerPID)
	set("Task", strings.TrimLeft(extra("task"), "0"))
	set("Token", extra("magic_token"))
	set("Info", e.Info)
	if e.HasError() {
		m["ErrorCode"] = strconv.FormatInt(max(e.Error, -e.Error), 10)
	}
	set("Attribute", e.Attribute)
	set("Namespace", e.Namespace)
	set("Flags", e.Flags)
	set("Src name", e.SrcName)
	set("Execpath", e.Execpath)
	set("FS Type", e.Fstype)
	set("Signal", e.Signal)
	if e.Addr != "none" {
		set("Net Addr", e.Addr)
	}
	if e.PeerAddr != "none" {
		set("Peer Addr", e.PeerAddr)
	}
	set("Network family", e.Family)
	set("Socket type", e.SockType)
	set("Protocol", or(ProtocolName(e.Protocol), extra("protocol")))
	set("Local addr", or(e.Laddr, extra("saddr")))
	set("Foreign addr", or(e.Faddr, extra("daddr")))
	if e.Lport != Unset {
		num("Local port", e.Lport)
	} else {
		set("Local port", extra("src"))
	}
	if e.Fport != Unset {
		num("Foreign port", e.Fport)
	} else {
		set("Foreign port", extra("dest"))
	}
	set("Class", e.Class)
	set("DBus bus", e.Bus)
	set("DBus path", e.Path)
	set("DBus interface", e.Interface)
	set("DBus member", e.Member)
	return m
}
