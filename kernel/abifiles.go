package kernel

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strings"
)

// ErrUnknownABI is returned by ChooseABI for an abi no abi directory holds.
var ErrUnknownABI = errors.New("no such abi file")

// abiNumber is the name of a numbered abi file: "3.0", "4.0".
var abiNumber = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// NumberedABIs lists the numbered abi files (3.0, 4.0, ...) of the abi
// directories dirs (a profile directory's abi/, then the system's), each
// once, oldest first. Files named for one kernel (kernel-5.4-vanilla) are
// not listed. A missing directory lists nothing.
func NumberedABIs(dirs ...string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, d := range dirs {
		ents, err := os.ReadDir(d)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read abi files: %w", err)
		}
		for _, e := range ents {
			if n := e.Name(); !e.IsDir() && abiNumber.MatchString(n) && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return numberAtLeast(out[j], out[i]) && out[i] != out[j] })
	return out, nil
}

// ChooseABI is the abi a new profile pins ("4.0"): pinned when it is given
// (it must be one of files, else ErrUnknownABI), else the newest of files
// that the parser of version parserVersion ("4.1.0") was made with, since
// a parser ships the abi files of its own version and older ones. With no
// numbered abi file at all it is "3.0", the abi every AppArmor 3 and later
// parser ships.
func ChooseABI(files []string, parserVersion, pinned string) (string, error) {
	if pinned != "" {
		pinned = strings.TrimPrefix(pinned, "abi/")
		for _, f := range files {
			if f == pinned {
				return f, nil
			}
		}
		have := "none"
		if len(files) > 0 {
			have = strings.Join(files, ", ")
		}
		return "", fmt.Errorf("abi %q: %w (the abi directories hold: %s)", pinned, ErrUnknownABI, have)
	}
	major, minor, _ := strings.Cut(parserVersion, ".")
	minor, _, _ = strings.Cut(minor, ".")
	pv := major + "." + minor
	choice := ""
	for _, f := range files {
		if parserVersion == "" || numberAtLeast(pv, f) {
			choice = f
		}
	}
	if choice == "" {
		return "3.0", nil
	}
	return choice, nil
}
