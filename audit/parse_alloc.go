package audit

import "unsafe"

// allocator hands out records and string bytes in blocks, so that a
// Decoder does not call the allocator once or twice per line. A nil
// allocator allocates each record on its own (Parse). Blocks are never
// written again once handed out; an event kept alive keeps its block
// (eventBlock events, or stringBlock bytes of line text) alive.
type allocator struct {
	events     []recordEvent
	companions []recordCompanion
	bytes      []byte
}

const (
	eventBlock     = 32
	companionBlock = 64
	stringBlock    = 16 << 10
)

type recordEvent struct {
	rec Record
	ev  Event
}

type recordCompanion struct {
	rec Record
	c   Companion
}

func (a *allocator) event() *recordEvent {
	if a == nil {
		return &recordEvent{}
	}
	if len(a.events) == 0 {
		a.events = make([]recordEvent, eventBlock)
	}
	re := &a.events[0]
	a.events = a.events[1:]
	return re
}

func (a *allocator) companion() *recordCompanion {
	if a == nil {
		return &recordCompanion{}
	}
	if len(a.companions) == 0 {
		a.companions = make([]recordCompanion, companionBlock)
	}
	rc := &a.companions[0]
	a.companions = a.companions[1:]
	return rc
}

// string copies b into the current block and returns it as a string. The
// bytes are never modified afterwards, which is what unsafe.String needs.
func (a *allocator) string(b []byte) string {
	if a == nil {
		return string(b)
	}
	if len(b) == 0 {
		return ""
	}
	if len(b) > stringBlock/4 {
		return string(b)
	}
	if cap(a.bytes)-len(a.bytes) < len(b) {
		a.bytes = make([]byte, 0, stringBlock)
	}
	start := len(a.bytes)
	a.bytes = append(a.bytes, b...)
	return unsafe.String(&a.bytes[start], len(b))
}
