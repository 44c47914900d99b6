package profiles

// Chosen is one line to write into a (sub)profile.
type Chosen struct {
	Profile string
	Text    string
	IDs     []string // the rule it comes from
}
