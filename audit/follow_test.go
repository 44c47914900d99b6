package audit

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rotWriter writes numbered lines to a log file the way a logging daemon
// does: through one open descriptor, reopening the path when told to (as on
// SIGHUP after logrotate's rename+create).
type rotWriter struct {
	path   string
	mu     sync.Mutex // held per write; copytruncate holds it to copy+truncate atomically
	f      *os.File
	reopen chan chan struct{}
	stop   chan struct{}
}

func (w *rotWriter) open(t *testing.T) {
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	w.f = f
}

// run writes lines 1..total; every `every` lines it asks rotate for a
// rotation (without waiting for it).
func (w *rotWriter) run(t *testing.T, total, every int, rotate chan<- int, reached func(int) bool) {
	late := -1 // lines still to write to the old file before reopening
	var ack chan struct{}
	for n := 1; n <= total; n++ {
		select {
		case ack = <-w.reopen:
			late = 3
		default:
		}
		w.mu.Lock()
		_, err := fmt.Fprintf(w.f, "line %d %s\n", n, strings.Repeat("x", n%50))
		w.mu.Unlock()
		if err != nil {
			t.Errorf("write: %v", err)
			return
		}
		if late == 0 {
			w.reopenNow(t, ack)
		}
		if late >= 0 {
			late--
		}
		if n%every == 0 {
			// Rotations are far apart on a real host: the follower has
			// caught up when the next rotation starts (writing goes on
			// while it runs).
			for deadline := time.Now().Add(10 * time.Second); !reached(n-1) && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			w.request(t, rotate, n)
		}
	}
	close(rotate)
	if late >= 0 { // reopen asked at the very end
		w.reopenNow(t, ack)
	}
	// Serve the reopens of rotations still under way.
	for {
		select {
		case ack := <-w.reopen:
			w.reopenNow(t, ack)
		case <-w.stop:
			return
		}
	}
}

// request asks for a rotation; the channel is unbuffered, so the rotation
// starts now, while the writer goes on writing.
func (w *rotWriter) request(t *testing.T, rotate chan<- int, n int) {
	for {
		select {
		case rotate <- n:
			return
		case ack := <-w.reopen: // the previous rotation is still under way
			w.reopenNow(t, ack)
		}
	}
}

func (w *rotWriter) reopenNow(t *testing.T, ack chan struct{}) {
	w.mu.Lock()
	_ = w.f.Close()
	w.open(t)
	w.mu.Unlock()
	close(ack)
}

func shiftRotated(t *testing.T, path string) {
	for i := 8; i >= 1; i-- {
		from := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(from); err == nil {
			require.NoError(t, os.Rename(from, path+"."+strconv.Itoa(i+1)))
		}
	}
}

func renameCreate(t *testing.T, w *rotWriter) {
	shiftRotated(t, w.path)
	require.NoError(t, os.Rename(w.path, w.path+".1"))
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	ack := make(chan struct{})
	w.reopen <- ack
	<-ack
}

func copyTruncate(t *testing.T, w *rotWriter) {
	w.mu.Lock()
	defer w.mu.Unlock()
	shiftRotated(t, w.path)
	src, err := os.Open(w.path)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.Create(w.path + ".1")
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
	require.NoError(t, os.Truncate(w.path, 0))
}

func TestFollowRotationUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name string
		poll time.Duration
		mode string // which rotations: "rename", "copytruncate", "both"
	}{
		{"rename+create", 20 * time.Millisecond, "rename"},
		{"copytruncate", 20 * time.Millisecond, "copytruncate"},
		{"mixed", 20 * time.Millisecond, "both"},
		{"mixed, slow poll", 200 * time.Millisecond, "both"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const total, every = 30000, 3000
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := &rotWriter{path: path, reopen: make(chan chan struct{}, 1), stop: make(chan struct{})}

			var mu sync.Mutex
			var got []int
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w.open(t) // the log exists when following starts
			fl := newFollower(path, tc.poll)
			ferr := make(chan error, 1)
			go func() {
				ferr <- fl.run(ctx, nil, func(line []byte, _ int) error {
					f := strings.Fields(string(line))
					if len(f) < 2 || f[0] != "line" {
						return fmt.Errorf("bad line %q", line)
					}
					n, err := strconv.Atoi(f[1])
					if err != nil {
						return err
					}
					mu.Lock()
					got = append(got, n)
					if n == total {
						close(done)
					}
					mu.Unlock()
					return nil
				})
			}()

			rotate := make(chan int)
			go w.run(t, total, every, rotate, func(n int) bool {
				mu.Lock()
				defer mu.Unlock()
				return len(got) >= n
			})
			i := 0
			for range rotate {
				if tc.mode == "rename" || (tc.mode == "both" && i%2 == 0) {
					renameCreate(t, w)
				} else {
					copyTruncate(t, w)
				}
				i++
			}
			close(w.stop)
			select {
			case <-done:
			case err := <-ferr:
				t.Fatalf("follower stopped: %v", err)
			case <-time.After(15 * time.Second):
				mu.Lock()
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					fi, _ := e.Info()
					t.Logf("%s %v size %d", e.Name(), idOf(fi), fi.Size())
				}
				if fl.cur != nil {
					t.Logf("cur %v pos %d off %d tail %q", fl.cur.id, fl.cur.pos, fl.cur.sp.off, fl.cur.tail)
				}
				if fl.old != nil {
					t.Logf("old %v pos %d off %d", fl.old.id, fl.old.pos, fl.old.sp.off)
				}
				t.Logf("last got %v", got[max(0, len(got)-3):])
				t.Fatalf("follower got %d of %d lines before the deadline", len(got), total)
			}
			cancel()
			require.NoError(t, <-ferr)
			_ = w.f.Close()

			mu.Lock()
			defer mu.Unlock()
			seen := make(map[int]int, total)
			for _, n := range got {
				seen[n]++
			}
			var missing, dup []int
			for n := 1; n <= total; n++ {
				switch seen[n] {
				case 0:
					missing = append(missing, n)
				case 1:
				default:
					dup = append(dup, n)
				}
			}
			assert.Empty(t, head(missing), "%d lines lost", len(missing))
			assert.Empty(t, head(dup), "%d lines read twice", len(dup))
			assert.Equal(t, total, len(got), "lines received")
			assert.IsNonDecreasing(t, got, "lines out of order")
			assert.Equal(t, 10, i, "rotations done")
		})
	}
}

func head(s []int) []int {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}
