// Package tail reads log files line by line: whole, from an offset, gzip
// or not, and following one as it is written, across logrotate's
// rotations and truncations, without losing or repeating a line. It knows
// nothing of what the lines say.
package tail
