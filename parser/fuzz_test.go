package parser

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aa-flow/aa-flow/internal/testutil"
	"github.com/aa-flow/aa-flow/profiles"
)

// FuzzParse: no input panics the parser, every error carries a position
// inside the input, and every node of an accepted input lies inside it.
func FuzzParse(f *testing.F) {
	for _, path := range debianPolicyFiles(f) {
		if src, err := os.ReadFile(path); err == nil {
			f.Add(src)
		}
	}
	dir := testutil.Corpus(f, "parser-simple_tests")
	_ = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(path, ".sd") {
			if src, err := os.ReadFile(path); err == nil {
				f.Add(src)
			}
		}
		return nil
	})
	f.Add([]byte(`"/tmp/q\"uote" r, /tmp/with\ space r, @{x}={a,b}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		file, err := Parse("fuzz", src)
		if err != nil {
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error without position: %v", err)
			}
			p := perr.Pos
			if p.File != "fuzz" || p.Line < 1 || p.Col < 1 || p.Offset < 0 || p.Offset > len(src) {
				t.Fatalf("bad error position %+v for %d bytes: %v", p, len(src), err)
			}
			return
		}
		var walk func(nodes []profiles.Node)
		walk = func(nodes []profiles.Node) {
			for _, n := range nodes {
				m := n.NodeMeta()
				if m.Pos.Offset < 0 || m.Pos.Offset > m.End.Offset || m.End.Offset > len(src) || m.Pos.Line < 1 {
					t.Fatalf("node %T at %+v..%+v outside the input (%d bytes)", n, m.Pos, m.End, len(src))
				}
				if p, ok := n.(*profiles.Profile); ok {
					walk(p.Rules)
				}
			}
		}
		walk(file.Items)
	})
}
