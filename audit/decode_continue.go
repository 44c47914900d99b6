package audit

import (
	"bytes"
)

// A syslog daemon that receives a message holding a newline writes the
// rest of it on a line of its own, without a header and indented: dbus-
// daemon's USER_AVC messages, printed by the kernel when auditd does not
// run, arrive so, msg='... on one line and "   exe=... terminal=?'" on the
// next. A header-less line is written with the message before it, in the
// same write, so it carries that message's origin and nothing else's.
//
// The Decoder joins such a line to the record before it only when all of
// these hold: the record is a USER_AVC of a text log whose msg='...' its
// line left open; the next line of the same source is indented and closes
// the message with its final quote; and it sets no key the record already
// set (a continuation completes a record, it never changes one).

// openMessage reports whether line holds a USER_AVC record whose msg='
// quote the line does not close.
func openMessage(line []byte, e *Event) bool {
	if e.Type != TypeUserAVC || e.Serial == 0 {
		return false
	}
	i := bytes.Index(line, keyMsgQuote)
	if i < 0 {
		return false
	}
	return bytes.IndexByte(line[i+len(keyMsgQuote):], '\'') < 0
}

var keyMsgQuote = []byte("msg='")

// continuation returns the text of a continuation line (without its
// indentation), or nil when line is not one.
func continuation(line []byte) []byte {
	if len(line) == 0 || (line[0] != ' ' && line[0] != '\t') {
		return nil
	}
	rest := bytes.TrimRight(bytes.TrimLeft(line, " \t"), " \t\r\n")
	if len(rest) == 0 || rest[len(rest)-1] != '\'' || bytes.IndexByte(rest, '\'') != len(rest)-1 {
		return nil
	}
	if bytes.Contains(rest, keyAudit) || bytes.Contains(rest, keyAppArmor) {
		return nil
	}
	return rest
}

// continueRecord joins line to the open record when it continues it, and
// replaces the pending event with the joined record's. It reports whether
// the line was taken.
func (d *Decoder) continueRecord(open openRecord, line []byte) bool {
	rest := continuation(line)
	if rest == nil {
		return false
	}
	n := len(d.pending)
	if n == 0 || d.pending[n-1] != open.ev {
		return false
	}
	for _, key := range continuationKeys(rest) {
		if hasKey(open.line, key) {
			return false
		}
	}
	d.joined = append(append(append(d.joined[:0], open.line...), ' '), rest...)
	rec, err := parse(d.joined, nil, &d.alloc)
	if err != nil || rec == nil || rec.Event == nil || rec.Event.Serial != open.ev.Serial {
		return false
	}
	e := rec.Event
	e.Source, e.Line = open.source, open.lineNo
	if d.reuse {
		d.alloc.free = append(d.alloc.free, open.ev)
	}
	d.pending[n-1] = e
	return true
}

// continuationKeys lists the keys (with their '=') that start the words of
// a continuation.
func continuationKeys(rest []byte) [][]byte {
	var keys [][]byte
	for _, w := range bytes.Fields(rest) {
		if eq := bytes.IndexByte(w, '='); eq > 0 {
			keys = append(keys, w[:eq+1])
		}
	}
	return keys
}

// hasKey reports whether key (with its '=') starts a word of line.
func hasKey(line, key []byte) bool {
	for off := 0; ; {
		i := bytes.Index(line[off:], key)
		if i < 0 {
			return false
		}
		i += off
		if i == 0 || spaceTable[line[i-1]] || line[i-1] == '\'' {
			return true
		}
		off = i + 1
	}
}
