package source

import (
	"bytes"
	"time"
)

var stampKey = []byte("audit(")

// stampTime returns the time of a line's audit(SEC.MSEC:SERIAL) stamp, or
// the zero time. It is a cheap look, not a parse: rotated files are dated
// and cursors timed with it.
func stampTime(line []byte) time.Time {
	i := bytes.Index(line, stampKey)
	if i < 0 {
		return time.Time{}
	}
	b := line[i+len(stampKey):]
	var sec, ms int64
	j := 0
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9' && j < 12; j++ {
		sec = sec*10 + int64(b[j]-'0')
	}
	if j == 0 || j >= len(b) || b[j] != '.' {
		return time.Time{}
	}
	j++
	k := j
	for ; j < len(b) && b[j] >= '0' && b[j] <= '9' && j-k < 3; j++ {
		ms = ms*10 + int64(b[j]-'0')
	}
	if j-k != 3 {
		return time.Time{}
	}
	return time.Unix(sec, ms*int64(time.Millisecond))
}
