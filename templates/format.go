package templates

import (
	"bytes"
	"fmt"

	"github.com/aa-flow/aa-flow/parser"
)

// Format parses policy text (a profile file, an abstraction or a tunables
// file) and returns its canonical rendering, the text `aa-flow fmt` writes.
// name is used in errors only. Formatting its own output changes nothing.
func Format(name string, src []byte) ([]byte, error) {
	f, err := parser.Parse(name, src)
	if err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	out, err := Render(f)
	if err != nil {
		return nil, fmt.Errorf("fmt: %w", err)
	}
	return out, nil
}

// Changed reports whether formatting src gives different text.
func Changed(src, formatted []byte) bool { return !bytes.Equal(src, formatted) }
