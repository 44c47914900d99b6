package volatile

import (
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/internal/aare"
)

// FuzzInfer: whatever the names, Infer puts each in exactly one family
// and every family's pattern matches each of its names.
func FuzzInfer(f *testing.F) {
	for _, s := range []string{
		"/var/backups/archive-1796551200.tar.gz\n/var/backups/archive-1796637600.tar.gz",
		"/tmp/myapp-483920/sock\n/tmp/myapp-22/tmp.Xk3fQ9aLpZ\n/proc/12/task/13/stat",
		"/home/dana/.config/t\n/home/erik/.config/t\n/srv/data/3f/a\n/srv/data/ff/b",
		"/a/b/c/d\n/a/b/e/f\n/a/b/g/h\n/a/b/i/j\n/a/b/k",
	} {
		f.Add(s, false)
	}
	vars := strings.NewReplacer("@{PROC}", "/proc/", "@{pid}", "[1-9]*", "@{tid}", "[1-9]*", "@{HOME}", "/home/*/", "@{uid}", "[0-9]*")
	f.Fuzz(func(t *testing.T, in string, owner bool) {
		var names []Name
		seen := map[string]bool{}
		for _, p := range strings.Split(in, "\n") {
			if !strings.HasPrefix(p, "/") || strings.Contains(p, "//") || strings.ContainsAny(p, "\x00*?[]{}^\\\"!,#@") || seen[p] {
				continue
			}
			seen[p] = true
			names = append(names, Name{Path: p, Owner: owner})
		}
		in2 := map[int]bool{}
		for _, fam := range Infer(names, Options{HasVar: allVars, SiblingMin: 3, TreeMin: 2}) {
			g, err := aare.Compile(vars.Replace(render(fam.Pieces)))
			if err != nil {
				t.Fatalf("%v: %v", fam.Pieces, err)
			}
			for _, m := range fam.Members {
				if in2[m] {
					t.Fatalf("%s in two families", names[m].Path)
				}
				in2[m] = true
				if !g.Match(names[m].Path) {
					t.Fatalf("%s does not match its pattern %s", names[m].Path, g)
				}
			}
		}
		if len(in2) != len(names) {
			t.Fatalf("%d of %d names in a family", len(in2), len(names))
		}
	})
}
