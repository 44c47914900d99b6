package tail

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"syscall"
)

// FileID is a file's identity: it survives renames, and a file created in
// its place has another.
type FileID struct {
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// IDOf returns the identity of the file fi describes.
func IDOf(fi os.FileInfo) FileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return FileID{Dev: uint64(st.Dev), Ino: st.Ino} //nolint:unconvert // Dev is uint32 on some platforms
	}
	return FileID{}
}

// IsGzip reports whether the reader starts with gzip's magic bytes.
func IsGzip(br *bufio.Reader) bool {
	b, err := br.Peek(2)
	return err == nil && b[0] == 0x1f && b[1] == 0x8b
}

// Open opens a log file for reading from offset skip of its text,
// decompressing gzip transparently (by content, not by name).
func Open(path string, skip int64) (io.Reader, *os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, ChunkSize)
	if !IsGzip(br) {
		if skip > 0 {
			if _, err := f.Seek(skip, io.SeekStart); err != nil {
				_ = f.Close()
				return nil, nil, fmt.Errorf("%s: seek: %w", path, err)
			}
			br.Reset(f)
		}
		return br, f, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		_ = f.Close()
		return nil, nil, fmt.Errorf("%s: gzip: %w", path, err)
	}
	if skip > 0 {
		if _, err := io.CopyN(io.Discard, zr, skip); err != nil {
			_ = f.Close()
			return nil, nil, fmt.Errorf("%s: skip to %d: %w", path, skip, err)
		}
	}
	return zr, f, nil
}

// IsGzipFile reports whether f starts with gzip's magic bytes.
func IsGzipFile(f *os.File) bool {
	b := make([]byte, 2)
	n, _ := f.ReadAt(b, 0)
	return n == 2 && b[0] == 0x1f && b[1] == 0x8b
}
