package volatile

import (
	"strconv"
	"strings"
)

// Token is one part of a path component: fixed text (Shape "") or a
// variable token of a known shape.
type Token struct {
	Text  string
	Shape Shape
}

// Classify splits one path component (no '/') into tokens; fixed text
// between shaped tokens is one token.
func Classify(comp string) []Token {
	var out []Token
	rest := comp
	var tail *Token
	if pre, suf, ok := cutVersion(rest); ok {
		rest, tail = pre, &Token{suf, Version}
	} else if pre, suf, ok := cutRotation(rest); ok {
		rest, tail = pre, &Token{suf, Rotation}
	}
	if suf, ok := strings.CutPrefix(rest, "tmp."); ok && len(suf) >= 6 && allAlnum(suf) {
		// mktemp(1)'s own template, tmp.XXXXXXXXXX: random letters,
		// digits optional.
		return append([]Token{{Text: "tmp."}, {Text: suf, Shape: Mktemp}}, out...)
	}
	fixed := func(s string) {
		if s == "" {
			return
		}
		if n := len(out); n > 0 && out[n-1].Shape == "" {
			out[n-1].Text += s
			return
		}
		out = append(out, Token{Text: s})
	}
	for i := 0; i < len(rest); {
		if !isAlnum(rest[i]) {
			fixed(rest[i : i+1])
			i++
			continue
		}
		// rest[i] starts an alphanumeric run (the byte before is not one).
		if n := uuidLen(rest[i:]); n > 0 {
			out = append(out, Token{rest[i : i+n], UUID})
			i += n
			continue
		}
		if n := dateTimeLen(rest[i:]); n > 0 {
			out = append(out, Token{rest[i : i+n], DateTime})
			i += n
			continue
		}
		j := tokenEnd(rest, i)
		run := rest[i:j]
		switch {
		case allDigits(run):
			out = append(out, Token{run, numberShape(run)})
		case isHexRun(run):
			s := Hex
			switch len(run) {
			case 32, 40, 64, 128:
				s = Hash
			}
			out = append(out, Token{run, s})
		case looksRandom(run):
			out = append(out, Token{run, Mktemp})
		default:
			// Letters stay fixed; digit runs inside the word are counters
			// (state1, part02).
			for k := 0; k < len(run); {
				l := k
				digits := isDigit(run[k])
				for l < len(run) && isDigit(run[l]) == digits {
					l++
				}
				if digits {
					out = append(out, Token{run[k:l], Counter})
				} else {
					fixed(run[k:l])
				}
				k = l
			}
		}
		i = j
	}
	if tail != nil {
		out = append(out, *tail)
	}
	return out
}

// alone reports whether one instance of the token is evidence enough that
// it varies (Shape.AloneVolatile, and mktemp names in temporary
// directories).
func (t Token) alone(temp bool) bool {
	return t.Shape.AloneVolatile() || (t.Shape == Mktemp && temp)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isLower(c) || isUpper(c) }

// tokenEnd is where the token that starts at s[i] ends: after its run of
// letters and digits, or after the one other byte. Names split into these
// tokens everywhere here.
func tokenEnd(s string, i int) int {
	j := i + 1
	if isAlnum(s[i]) {
		for j < len(s) && isAlnum(s[j]) {
			j++
		}
	}
	return j
}

func allAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isAlnum(s[i]) {
			return false
		}
	}
	return s != ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// Unix times aa-flow takes for epochs: 2001-09-09 (10 digits) to 2100.
const (
	epochMin = 1_000_000_000
	epochMax = 4_102_444_800
)

// numberShape is Epoch for a number that reads as a Unix time in seconds
// or milliseconds, Counter otherwise.
func numberShape(s string) Shape {
	switch len(s) {
	case 10, 13:
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return Counter
		}
		if len(s) == 13 {
			v /= 1000
		}
		if v >= epochMin && v <= epochMax {
			return Epoch
		}
	}
	return Counter
}

// isHexRun reports a run of hex digits of one case with at least one
// digit and one letter.
func isHexRun(s string) bool {
	var digit, lower, upper bool
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digit = true
		case c >= 'a' && c <= 'f':
			lower = true
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return false
		}
	}
	return digit && (lower != upper)
}

// looksRandom reports a run of six or more letters and digits mixed as a
// random generator mixes them: letters and digits alternating at least
// three times (tmpa8k2x9q1), or a digit with three or more letters of each
// case (Xk3fQ9aLpZ). python3, base64, sha256, x86 and libQt5Core stay
// words.
func looksRandom(s string) bool {
	if len(s) < 6 {
		return false
	}
	digit, lower, upper, changes := 0, 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case isDigit(c):
			digit++
		case isLower(c):
			lower++
		default:
			upper++
		}
		if i > 0 && isDigit(c) != isDigit(s[i-1]) {
			changes++
		}
	}
	if digit == 0 || lower+upper == 0 {
		return false
	}
	return changes >= 3 || upper >= 3 && lower >= 3
}

// uuidLen is 36 when s starts with a UUID followed by a non-alphanumeric
// byte or the end, else 0.
func uuidLen(s string) int {
	if len(s) < 36 || (len(s) > 36 && isAlnum(s[36])) {
		return 0
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return 0
			}
		default:
			if !isDigit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') {
				return 0
			}
		}
	}
	return 36
}

// digitsAt reads n digits at s[i:], -1 when they are not all digits.
func digitsAt(s string, i, n int) int {
	if i+n > len(s) {
		return -1
	}
	v := 0
	for k := i; k < i+n; k++ {
		if !isDigit(s[k]) {
			return -1
		}
		v = v*10 + int(s[k]-'0')
	}
	return v
}

// dateTimeLen is the length of an ISO 8601 date or date-time at the start
// of s, 0 when there is none: YYYY-MM-DD or YYYYMMDD (1970 to 2099), then
// optionally a time HH:MM[:SS][.frac] (separators ':', '-', '.' or none;
// the time after 'T', '_', ' ' or '-') and a zone (Z, +HH:MM, -HHMM). The
// date-time must end where the alphanumeric run ends.
func dateTimeLen(s string) int {
	i, ext := 0, false
	y := digitsAt(s, 0, 4)
	if y < 1970 || y > 2099 {
		return 0
	}
	i = 4
	if i < len(s) && s[i] == '-' {
		ext = true
		i++
	}
	mo := digitsAt(s, i, 2)
	if mo < 1 || mo > 12 {
		return 0
	}
	i += 2
	if ext {
		if i >= len(s) || s[i] != '-' {
			return 0
		}
		i++
	}
	d := digitsAt(s, i, 2)
	if d < 1 || d > 31 {
		return 0
	}
	i += 2
	if i < len(s) && isDigit(s[i]) {
		return 0 // a longer number
	}
	end := i
	if n := timeLen(s[i:]); n > 0 {
		end = i + n
	}
	if end < len(s) && isAlnum(s[end]) {
		return 0
	}
	return end
}

// timeLen is the length of a time after a date: a separator, HH, MM,
// optional SS and fraction, optional zone; 0 when there is none.
func timeLen(s string) int {
	if len(s) < 5 || !strings.ContainsRune("T_ -", rune(s[0])) {
		return 0
	}
	i := 1
	h := digitsAt(s, i, 2)
	if h < 0 || h > 23 {
		return 0
	}
	i += 2
	sep := byte(0)
	if i < len(s) && strings.IndexByte(":-.", s[i]) >= 0 {
		sep = s[i]
		i++
	}
	m := digitsAt(s, i, 2)
	if m < 0 || m > 59 {
		return 0
	}
	i += 2
	// Seconds, with the separator the minutes had.
	k := i
	if sep != 0 {
		if k < len(s) && s[k] == sep {
			k++
		} else {
			k = -1
		}
	}
	if k >= 0 {
		if sec := digitsAt(s, k, 2); sec >= 0 && sec <= 60 {
			i = k + 2
			if i+1 < len(s) && (s[i] == '.' || s[i] == ',') && isDigit(s[i+1]) {
				i++
				for i < len(s) && isDigit(s[i]) {
					i++
				}
			}
		}
	}
	if i < len(s) && isDigit(s[i]) {
		return 0
	}
	switch {
	case i < len(s) && s[i] == 'Z':
		i++
	case i+5 <= len(s) && (s[i] == '+' || s[i] == '-') && digitsAt(s, i+1, 2) >= 0:
		k := i + 3
		if s[k] == ':' {
			k++
		}
		if digitsAt(s, k, 2) >= 0 {
			i = k + 2
		}
	}
	return i
}

// compressed are the suffixes logrotate's compressors add.
var compressed = []string{".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z"}

// cutRotation splits a log-rotation suffix (.N or .N.gz, N of 1 to 3
// digits) off a name with a letter before it, which is not a shared
// library (libc.so.6 is a version, cutVersion).
func cutRotation(s string) (pre, suf string, ok bool) {
	base := s
	for _, c := range compressed {
		if b, found := strings.CutSuffix(s, c); found {
			base = b
			break
		}
	}
	dot := strings.LastIndexByte(base, '.')
	if dot <= 0 || len(base)-dot-1 < 1 || len(base)-dot-1 > 3 || !allDigits(base[dot+1:]) {
		return "", "", false
	}
	pre = s[:dot]
	if strings.Contains(pre, ".so") || !strings.ContainsFunc(pre, func(r rune) bool { return r < 128 && (isLower(byte(r)) || isUpper(byte(r))) }) {
		return "", "", false
	}
	if isDigit(pre[len(pre)-1]) {
		return "", "", false // 1.2.3: a version, not a rotation
	}
	return pre, s[dot:], true
}

// cutVersion splits the version off a shared library's name:
// libssl.so.3 is libssl.so and .3.
func cutVersion(s string) (pre, suf string, ok bool) {
	i := strings.Index(s, ".so.")
	if i < 0 || !strings.HasPrefix(s, "lib") {
		return "", "", false
	}
	v := s[i+3:]
	for _, part := range strings.Split(v[1:], ".") {
		if !allDigits(part) {
			return "", "", false
		}
	}
	return s[:i+3], v, true
}
