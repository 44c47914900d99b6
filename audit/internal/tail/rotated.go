package tail

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// rotatedFile is one rotated sibling of a log file: NAME.1, NAME.2.gz, or
// with logrotate's dateext NAME-20260101[.gz].
type rotatedFile struct {
	path string
	num  int    // the rotation number (1 = newest); 0 for dateext names
	date string // the dateext suffix; "" for numbered names
}

// Rotated lists the rotated siblings of path that exist, newest
// first: numbered ones by ascending number, then dateext ones by descending
// date (a host uses one scheme or the other).
func Rotated(path string) []string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var rs []rotatedFile
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || len(name) <= len(base)+1 || !strings.HasPrefix(name, base) {
			continue
		}
		rest := strings.TrimSuffix(name[len(base):], ".gz")
		switch rest[0] {
		case '.':
			n, err := strconv.Atoi(rest[1:])
			if err == nil && n > 0 {
				rs = append(rs, rotatedFile{path: filepath.Join(dir, name), num: n})
			}
		case '-':
			d := rest[1:]
			if len(d) >= 8 && strings.Trim(d, "0123456789-_") == "" {
				rs = append(rs, rotatedFile{path: filepath.Join(dir, name), date: d})
			}
		}
	}
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if (a.date == "") != (b.date == "") {
			return a.date == ""
		}
		if a.date == "" {
			return a.num < b.num
		}
		return a.date > b.date
	})
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.path
	}
	return out
}
