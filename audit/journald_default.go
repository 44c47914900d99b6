//go:build !(sdjournal && cgo)

package audit

// newJournalSource reads journald through journalctl: the default, static
// build has no libsystemd (see journald_sdjournal.go for the other).
func newJournalSource(opt ReadOptions) source {
	return newJournalctlSource(opt)
}
