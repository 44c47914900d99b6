package source

import "github.com/aa-flow/aa-flow/audit/internal/tail"

// FileID is a file's identity: it survives renames, and a file created in
// its place has another.
type FileID = tail.FileID
