//go:build !(sdjournal && cgo)

package source

// newJournalSource reads journald through journalctl: the default, static
// build has no libsystemd (see journald_sdjournal.go for the other).
func newJournalSource(opt Options) Source {
	return newJournalctlSource(opt)
}
