// Package volatile infers which parts of logged file names change from run
// to run (counters, pids, timestamps, random suffixes, per-user and
// per-process directories) and proposes, for a set of distinct names, the
// narrowest AppArmor patterns that cover each family of them while keeping
// every fixed part of the names.
//
// It is pure: names in, families out. It never writes pattern text from a
// logged character: a Family is a list of Pieces, literal ones (which the
// caller escapes so that they match only themselves) and glob ones (which
// come from this package's own vocabulary: '*', '?', byte classes and the
// variables @{PROC}, @{pid}, @{tid}, @{HOME}, @{uid} when the profile has
// them).
//
// # Which parts vary
//
// A path component is split into tokens (Classify). A token has a Shape
// when its form says what it is: a decimal number, a Unix epoch, an ISO
// date or time, a hex string or hash, a UUID, a mktemp suffix, a
// log-rotation suffix, a library version; the directory positions /proc/N,
// /proc/N/task/N, /home/NAME and /run/user/N are per-process and per-user
// by where they are. Every other token is fixed and stays literal.
//
// A shaped token becomes a glob only on evidence: when the family has two
// or more distinct values in that position, or when the shape alone says
// the value is new on every run (Shape.AloneVolatile): then one instance is
// enough. Two names that differ only in fixed parts are never merged by
// shape; many unshaped files of one directory are merged only above a
// threshold (Options.SiblingMin), keeping their common prefix and suffix.
package volatile

// Shape is the kind of variable token inference recognised.
type Shape string

// The shapes. The comment says what the shape looks like and, for the
// shapes that are volatile alone, why one instance is enough.
const (
	// Counter is a run of decimal digits (state-7.json, part3).
	Counter Shape = "counter"
	// PID is a decimal directory directly under /proc, or under
	// /proc/N/task/. Volatile alone: a process id is chosen by the kernel
	// for each process and means nothing across runs.
	PID Shape = "pid"
	// Epoch is a Unix time in seconds (10 digits, 2001 to 2100) or
	// milliseconds (13 digits). Volatile alone: it is the clock, so the
	// next run writes a new one.
	Epoch Shape = "epoch"
	// DateTime is an ISO 8601 date, optionally with a time
	// (2026-12-06, 2026-12-06T10:00:00Z, 20261206T100000). Volatile alone:
	// it is the clock.
	DateTime Shape = "datetime"
	// UUID is 8-4-4-4-12 hex digits. Volatile alone: a UUID is generated
	// to be unique, so the next one is new by construction.
	UUID Shape = "uuid"
	// Hex is a run of hex digits with at least one digit and one letter
	// (a content address, an object id, a cache key).
	Hex Shape = "hex"
	// Hash is a hex run of a digest's length (32, 40, 64 or 128: MD5,
	// SHA-1, SHA-256, SHA-512). Not volatile alone: a content address can
	// be a fixed file.
	Hash Shape = "hash"
	// Mktemp is a random suffix of six or more letters and digits that
	// mixes them the way mktemp(1), mkstemp(3) and Python's tempfile do
	// (mixed case with a digit, or letters and digits alternating at least
	// twice: tmp.Xk3fQ9aLpZ, tmpa8k2x9q1). Volatile alone in a temporary
	// directory (/tmp, /var/tmp, /dev/shm, /run/user/N): there such a
	// name is made random on purpose, one per run.
	Mktemp Shape = "mktemp"
	// Rotation is a log-rotation suffix at the end of a name: .1, .2.gz.
	Rotation Shape = "rotation"
	// Version is a shared library's version suffix (libssl.so.3,
	// libstdc++.so.6.0.30). Volatile alone: a package upgrade changes it
	// while the program asks for the same library.
	Version Shape = "version"
	// User is a home directory's name under /home. Volatile alone only
	// for an owner rule written with @{HOME} (the service runs as the
	// user who owns the files); otherwise two users are needed, and the
	// caller rates what /home/*/ reaches.
	User Shape = "user"
	// UID is a numeric directory under /run/user.
	UID Shape = "uid"
	// Siblings is no token shape: many differently named files of one
	// directory (Options.SiblingMin or more) merged into one pattern that
	// keeps their common prefix and suffix.
	Siblings Shape = "siblings"
	// Tree is no token shape either: DIR/** for a directory with files
	// in several distinct subdirectories (Options.TreeMin or more).
	Tree Shape = "tree"
)

// AloneVolatile reports whether one instance of a token of this shape is
// evidence enough that it varies (see the constants for why). Mktemp is
// volatile alone only in a temporary directory, which the caller of this
// method does not know: it is answered there (token.alone).
func (s Shape) AloneVolatile() bool {
	switch s {
	case PID, Epoch, DateTime, UUID, Version:
		return true
	}
	return false
}
