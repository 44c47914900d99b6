package source

import "time"

// Cursor records where a Read stopped in each of its sources, so the next
// Read with it returns only what came after. It is JSON-serialisable: learn
// keeps one per profile in its state directory.
type Cursor struct {
	Sources []Position `json:"sources,omitempty"`
}

// Position is the position in one source.
type Position struct {
	// Source names the source as its Name does: a file path, "journald",
	// "kmsg".
	Source string `json:"source"`
	// Files: the file's identity, and the offset and line number just past
	// the last line read. A rotated-away file is found again by identity.
	ID     FileID `json:"id,omitzero"`
	Offset int64  `json:"offset,omitempty"`
	Line   int    `json:"line,omitempty"`
	// Journald: the cursor of the last entry read (__CURSOR).
	Journal string `json:"journal,omitempty"`
	// Kmsg: the sequence number of the last record read.
	Seq uint64 `json:"seq,omitempty"`
	// Time of the newest record read; when the position itself cannot be
	// found again (the file was compressed or deleted), records up to this
	// time are skipped instead.
	Time time.Time `json:"time,omitzero"`
}

// Get returns the position recorded for source, or nil.
func (c *Cursor) Get(source string) *Position {
	if c == nil {
		return nil
	}
	for i := range c.Sources {
		if c.Sources[i].Source == source {
			return &c.Sources[i]
		}
	}
	return nil
}

// Set records the position for sc.Source, replacing an older one.
func (c *Cursor) Set(sc Position) {
	for i := range c.Sources {
		if c.Sources[i].Source == sc.Source {
			c.Sources[i] = sc
			return
		}
	}
	c.Sources = append(c.Sources, sc)
}
