package audit

// Tally counts records by profile and mode (a Decoder's Stats.ByProfile,
// the records aa-flow logs shows). Consecutive records are mostly about
// one profile, so the row of the last profile is kept at hand, and a row
// counts its few modes in a slice: counting costs no map operation per
// record. The zero Tally is empty and ready. A profile name is kept as
// given: pass one that stays unchanged (Read's event strings do).
type Tally struct {
	rows    map[string]*tallyRow
	last    string
	lastRow *tallyRow
}

type tallyRow struct {
	modes []Mode
	n     []int
}

// Add counts one record of profile in mode m.
func (t *Tally) Add(profile string, m Mode) {
	r := t.lastRow
	if r == nil || profile != t.last {
		if t.rows == nil {
			t.rows = map[string]*tallyRow{}
		}
		if r = t.rows[profile]; r == nil {
			r = &tallyRow{}
			t.rows[profile] = r
		}
		t.last, t.lastRow = profile, r
	}
	for i, k := range r.modes {
		if k == m {
			r.n[i]++
			return
		}
	}
	r.modes = append(r.modes, m)
	r.n = append(r.n, 1)
}

// Counts returns the counts by profile and mode.
func (t *Tally) Counts() map[string]map[Mode]int {
	out := make(map[string]map[Mode]int, len(t.rows))
	for p, r := range t.rows {
		m := make(map[Mode]int, len(r.modes))
		for i, k := range r.modes {
			m[k] = r.n[i]
		}
		out[p] = m
	}
	return out
}
