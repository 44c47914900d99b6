package audit

import "github.com/aa-flow/aa-flow/audit/source"

// ProgressEvery is how many lines pass between two Progress calls.
const ProgressEvery = 16384

// Progress is how far a Read got, for a progress display.
type Progress struct {
	// Source is the source being read; File the file of it being read
	// (a rotated NAME.1, or Source itself).
	Source, File string
	// Lines counts the lines read so far, Records the AppArmor records
	// among them, over every source.
	Lines, Records int
	// Offset is the byte offset reached in File; 0 when the source has
	// none (the journal, /dev/kmsg, standard input).
	Offset int64
	// Done is set on the last call, when the read has ended.
	Done bool
}

// step counts a line and reports progress every ProgressEvery lines.
func (r *reader) step(l *source.Line, where string) {
	p := &r.progress
	p.Lines++
	p.Source, p.File, p.Offset = l.Source, where, l.Offset
	if p.Lines%ProgressEvery == 0 {
		p.Records = r.dec.stats.Records
		r.opt.Progress(*p)
	}
}
