package volatile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/aa-flow/aa-flow/internal/aare"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		comp string
		want string // tokens, shaped ones as <shape:text>
	}{
		{"archive-1796551200.tar.gz", "archive-<epoch:1796551200>.tar.gz"},
		{"archive-1796551200123.tar.gz", "archive-<epoch:1796551200123>.tar.gz"},
		{"state-12.json", "state-<counter:12>.json"},
		{"report-2026-12-06T10:00:00.json", "report-<datetime:2026-12-06T10:00:00>.json"},
		{"report-2026-12-06T10:00:00.123+01:00.json", "report-<datetime:2026-12-06T10:00:00.123+01:00>.json"},
		{"dump_20261206T100000Z.sql", "dump_<datetime:20261206T100000Z>.sql"},
		{"2026-12-06.log", "<datetime:2026-12-06>.log"},
		{"backup-2026-13-06", "backup-<counter:2026>-<counter:13>-<counter:06>"}, // no month 13
		{"tmp.Xk3fQ9aLpZ", "tmp.<mktemp:Xk3fQ9aLpZ>"},
		{"tmpa8k2x9q1", "<mktemp:tmpa8k2x9q1>"},
		{"tmp.TTOGxbwJQT", "tmp.<mktemp:TTOGxbwJQT>"},
		{"myapp-483920", "myapp-<counter:483920>"},
		{"3f2a9c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b.json", "<uuid:3f2a9c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b>.json"},
		{"9f86d081884c7d659a2feaa0c55ad015.bin", "<hash:9f86d081884c7d659a2feaa0c55ad015>.bin"},
		{"3f", "<hex:3f>"},
		{"app.log.1", "app.log<rotation:.1>"},
		{"syslog.2.gz", "syslog<rotation:.2.gz>"},
		{"libssl.so.3", "libssl.so<version:.3>"},
		{"libstdc++.so.6.0.30", "libstdc++.so<version:.6.0.30>"},
		{"libc.so.6", "libc.so<version:.6>"},
		// words stay words
		{"python3", "python<counter:3>"},
		{"base64", "base<counter:64>"},
		{"hostname", "hostname"},
		{"libQt5Core.so", "libQt<counter:5>Core.so"},
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.comp, func(t *testing.T) {
			var b strings.Builder
			for _, tok := range Classify(tc.comp) {
				if tok.Shape == "" {
					b.WriteString(tok.Text)
				} else {
					fmt.Fprintf(&b, "<%s:%s>", tok.Shape, tok.Text)
				}
			}
			assert.Equal(t, tc.want, b.String())
		})
	}
}

// render writes a pattern with its globs as they are (the test names have
// nothing to escape).
func render(ps []Piece) string {
	var b strings.Builder
	for _, p := range ps {
		b.WriteString(p.Text)
	}
	return b.String()
}

func allVars(string) bool { return true }

func TestInfer(t *testing.T) {
	cases := []struct {
		name  string
		paths []string
		owner bool
		vars  func(string) bool
		want  []string // pattern (members)
	}{
		{"two epochs keep the fixed parts", []string{"/var/backups/archive-1796551200.tar.gz", "/var/backups/archive-1796637600.tar.gz"}, false, nil,
			[]string{"/var/backups/archive-[0-9]*.tar.gz (2) epoch"}},
		{"one epoch is enough", []string{"/var/backups/archive-1796551200.tar.gz"}, false, nil,
			[]string{"/var/backups/archive-[0-9]*.tar.gz (1) epoch"}},
		{"one counter is not", []string{"/var/lib/app/state-3.json"}, false, nil,
			[]string{"/var/lib/app/state-3.json (1)"}},
		{"counters", []string{"/var/lib/app/state-3.json", "/var/lib/app/state-12.json", "/var/lib/app/state.json"}, false, nil,
			[]string{"/var/lib/app/state-[0-9]*.json (2) counter", "/var/lib/app/state.json (1)"}},
		{"iso date-times", []string{"/srv/reports/report-2026-12-06T10:00:00.json"}, false, nil,
			[]string{"/srv/reports/report-[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].json (1) datetime"}},
		{"sibling temp dirs of one shape", []string{"/tmp/myapp-483920/sock", "/tmp/myapp-22/sock", "/tmp/myapp-22/work/"}, false, nil,
			[]string{"/tmp/myapp-[0-9]*/sock (2) counter", "/tmp/myapp-[0-9]*/work/ (1) counter"}},
		{"one temp dir of a counter stays", []string{"/tmp/myapp-483920/sock"}, false, nil,
			[]string{"/tmp/myapp-483920/sock (1)"}},
		{"mktemp in /tmp alone", []string{"/tmp/tmp.Xk3fQ9aLpZ/out"}, false, nil,
			[]string{"/tmp/tmp.??????????/out (1) mktemp"}},
		{"mktemp outside a temp dir needs two", []string{"/var/lib/app/tmp.Xk3fQ9aLpZ"}, false, nil,
			[]string{"/var/lib/app/tmp.Xk3fQ9aLpZ (1)"}},
		{"a wholly random name in /tmp is never /tmp/*", []string{"/tmp/Xk3fQ9aLpZ", "/tmp/Qk3fQ9aLpZ"}, false, nil,
			[]string{"/tmp/Qk3fQ9aLpZ (1)", "/tmp/Xk3fQ9aLpZ (1)"}},
		{"uuid alone", []string{"/var/lib/app/up/3f2a9c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b.json"}, false, nil,
			[]string{"/var/lib/app/up/[0-9a-f]*-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*-[0-9a-f]*.json (1) uuid"}},
		{"one upload name stays literal", []string{"/srv/uploads/holiday.jpg"}, false, nil,
			[]string{"/srv/uploads/holiday.jpg (1)"}},
		{"hex data tree", []string{"/srv/data/3f/obj", "/srv/data/a7/obj", "/srv/data/ff/obj", "/srv/data/42/obj"}, false, nil,
			[]string{"/srv/data/[0-9a-f]*/obj (4) hex"}},
		{"one hash is not enough", []string{"/var/cache/app/9f86d081884c7d659a2feaa0c55ad015.bin"}, false, nil,
			[]string{"/var/cache/app/9f86d081884c7d659a2feaa0c55ad015.bin (1)"}},
		{"hashes", []string{"/var/cache/app/9f86d081884c7d659a2feaa0c55ad015.bin", "/var/cache/app/0c1d2e3f4a5b0c1d2e3f4a5b0c1d2e3f.bin"}, false, nil,
			[]string{"/var/cache/app/[0-9a-f]*.bin (2) hex"}},
		{"rotated logs", []string{"/var/log/app/app.log.1", "/var/log/app/app.log.2.gz", "/var/log/app/app.log"}, false, nil,
			[]string{"/var/log/app/app.log (1)", "/var/log/app/app.log.[0-9]* (2) rotation"}},
		{"library versions", []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}, false, nil,
			[]string{"/usr/lib/x86_64-linux-gnu/libssl.so.[0-9]* (1) version"}},
		{"one pid under /proc", []string{"/proc/4242/mem"}, false, allVars,
			[]string{"@{PROC}/@{pid}/mem (1) pid"}},
		{"pids and tids", []string{"/proc/12/stat", "/proc/13/stat", "/proc/12/task/14/comm", "/proc/self/status", "/proc/sys/kernel/pid_max"}, false, allVars,
			[]string{"@{PROC}/@{pid}/stat (2) pid", "@{PROC}/@{pid}/task/@{tid}/comm (1) pid", "/proc/self/status (1)", "/proc/sys/kernel/pid_max (1)"}},
		{"pids without tunables", []string{"/proc/12/stat"}, false, nil,
			[]string{"/proc/[1-9]*/stat (1) pid"}},
		{"a root service keeps one user's file", []string{"/home/dana/.config/tool/token"}, false, allVars,
			[]string{"/home/dana/.config/tool/token (1)"}},
		{"a file under two users' homes", []string{"/home/dana/.config/tool/token", "/home/erik/.config/tool/token", "/home/erik/.cache/x"}, false, allVars,
			[]string{"/home/*/.config/tool/token (2) user", "/home/erik/.cache/x (1)"}},
		{"the owner's home", []string{"/home/dana/.config/tool/token"}, true, allVars,
			[]string{"@{HOME}/.config/tool/token (1) user"}},
		{"one user's owned and not owned files", []string{"/home/dana/.local/state/app/s.json", "/home/dana/.config/tool/token"}, false, allVars,
			[]string{"@{HOME}/.local/state/app/s.json (1) user", "/home/dana/.config/tool/token (1)"}},
		{"the owner's home without @{HOME}", []string{"/home/dana/.config/tool/token"}, true, nil,
			[]string{"/home/dana/.config/tool/token (1)"}},
		{"root's home stays", []string{"/root/.config/tool/token"}, true, allVars,
			[]string{"/root/.config/tool/token (1)"}},
		{"run user", []string{"/run/user/1000/bus", "/run/user/1001/bus"}, false, allVars,
			[]string{"/run/user/@{uid}/bus (2) uid"}},
		{"many unshaped files", []string{"/srv/up/a.pdf", "/srv/up/b.pdf", "/srv/up/c.pdf", "/srv/up/d.pdf", "/srv/up/e.pdf", "/srv/up/f.pdf", "/srv/up/g.pdf", "/srv/up/h.pdf"}, false, nil,
			[]string{"/srv/up/*.pdf (8) siblings"}},
		{"a tree of several subdirectories", []string{"/usr/share/app/css/a.css", "/usr/share/app/js/a.js", "/usr/share/app/img/x/y.png", "/usr/share/app/fonts/f.ttf", "/usr/share/app/index.html"}, false, nil,
			[]string{"/usr/share/app/** (5) tree"}},
		{"a top-level directory never becomes a tree", []string{"/srv/css/a.css", "/srv/js/a.js", "/srv/img/y.png", "/srv/fonts/f.ttf"}, false, nil,
			[]string{"/srv/css/a.css (1)", "/srv/fonts/f.ttf (1)", "/srv/img/y.png (1)", "/srv/js/a.js (1)"}},
		{"directories stay directories", []string{"/var/lib/app/run-1/", "/var/lib/app/run-2/"}, false, nil,
			[]string{"/var/lib/app/run-[0-9]*/ (2) counter"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var names []Name
			for _, p := range tc.paths {
				// A path with "state" in it is owned in every case.
				names = append(names, Name{Path: p, Owner: tc.owner || strings.Contains(p, "/state/")})
			}
			fams := Infer(names, Options{HasVar: tc.vars, SiblingMin: 8, TreeMin: 4})
			var got []string
			seen := map[int]bool{}
			for _, f := range fams {
				s := fmt.Sprintf("%s (%d)", render(f.Pieces), len(f.Members))
				for _, sh := range f.Shapes {
					s += " " + string(sh)
				}
				got = append(got, s)
				for _, m := range f.Members {
					assert.False(t, seen[m], "name %d in two families", m)
					seen[m] = true
				}
				assert.Equal(t, len(f.Shapes) > 0, f.Glob(), s)
			}
			assert.Len(t, seen, len(tc.paths), "every name is in a family")
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestInferMatchesItsMembers: every family's pattern matches each of its
// names, as apparmor_parser reads the glob (internal/aare).
func TestInferMatchesItsMembers(t *testing.T) {
	vars := strings.NewReplacer("@{PROC}", "/proc/", "@{pid}", "[1-9]*", "@{tid}", "[1-9]*", "@{HOME}", "/home/*/", "@{uid}", "[0-9]*")
	var names []Name
	for _, p := range []string{
		"/var/backups/archive-1796551200.tar.gz", "/var/backups/archive-1796637600.tar.gz",
		"/tmp/myapp-483920/sock", "/tmp/myapp-22/sock", "/tmp/myapp-22/tmp.Xk3fQ9aLpZ",
		"/proc/4242/mem", "/proc/12/stat", "/proc/12/task/13/stat", "/proc/self/fd/",
		"/srv/data/3f/obj", "/srv/data/a7/obj", "/srv/data/ff/obj",
		"/home/dana/.config/tool/token", "/home/erik/.config/tool/token", "/home/erik/.cache/x",
		"/srv/reports/report-2026-12-06T10:00:00.json", "/srv/reports/report-2026-12-07T10:00:00Z.json",
		"/var/log/app/app.log.1", "/var/log/app/app.log.2.gz",
		"/var/lib/app/3f2a9c4e-1b2d-4e5f-8a9b-0c1d2e3f4a5b.json",
		"/usr/share/app/css/a.css", "/usr/share/app/js/a.js", "/usr/share/app/img/x/y.png", "/usr/share/app/fonts/f.ttf",
	} {
		names = append(names, Name{Path: p})
	}
	for _, f := range Infer(names, Options{HasVar: allVars, SiblingMin: 8, TreeMin: 4}) {
		pat := vars.Replace(render(f.Pieces))
		g, err := aare.Compile(pat)
		if !assert.NoError(t, err, pat) {
			continue
		}
		for _, m := range f.Members {
			assert.True(t, g.Match(names[m].Path), "%s does not match %s", pat, names[m].Path)
		}
	}
}
