// Package propose turns audit records into proposed rules: each record's
// accesses, merged per profile and access, those the policy does not cover
// yet built into rules, generalised, folded into abstractions, rated and
// ranked into a Proposal with its evidence. A Proposal is what diff, review
// and apply read back.
//
// It is the only rule package that reads audit events; it knows nothing of
// files on disk or the kernel.
package propose
