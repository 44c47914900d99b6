// Package lint rates the risk of rules: the one severity table
// (severity.db, with fixed ratings for the classes it does not rate) that
// both the learner and the lint command use, and the lint checks on a
// profile file.
package lint
