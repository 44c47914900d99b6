// Package policy answers what AppArmor policy allows: whether a rule or a
// whole profile (its includes followed, its variables and aliases applied)
// covers an access, and why (Explain). Matching follows apparmor_parser's
// glob semantics (internal/aare) and is checked against its compiled DFA.
//
// It knows nothing of logs: an Access is the model's description of one
// request, which propose/ builds from audit records.
package policy
