package audit

import "strconv"

// formatID renders an audit record identity as the kernel prints it:
// SEC.MSEC:SERIAL with the milliseconds zero-padded to three digits.
func formatID(sec int64, ms int, serial uint64) string {
	b := make([]byte, 0, 32)
	b = strconv.AppendInt(b, sec, 10)
	b = append(b, '.')
	if ms < 100 {
		b = append(b, '0')
	}
	if ms < 10 {
		b = append(b, '0')
	}
	b = strconv.AppendInt(b, int64(ms), 10)
	b = append(b, ':')
	b = strconv.AppendUint(b, serial, 10)
	return string(b)
}
