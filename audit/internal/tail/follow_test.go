package tail

import (
	"compress/gzip"
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

// run writes lines 1..total, pausing briefly every 20 lines so that a
// run spans many polls; every `every` lines it asks rotate for a rotation
// (without waiting for it, nor for the Follower to catch up).
func (w *rotWriter) run(t *testing.T, total, every int, rotate chan<- int) {
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
		if n%20 == 0 {
			time.Sleep(time.Millisecond)
		}
		if n%every == 0 {
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

// keepRotated is how many rotated files the tests keep (logrotate's
// rotate N): more than the rotations a slow Follower sleeps through.
const keepRotated = 40

func shiftRotated(t *testing.T, path string) {
	for i := keepRotated - 1; i >= 1; i-- {
		from := path + "." + strconv.Itoa(i)
		if _, err := os.Stat(from); err == nil {
			require.NoError(t, os.Rename(from, path+"."+strconv.Itoa(i+1)))
		}
	}
}

// renameCreate rotates by rename+create; with reopen the writer is told
// to reopen (as by a postrotate SIGHUP) and waited for, without it the
// writer goes on writing to the renamed file until a later rotation.
func renameCreate(t *testing.T, w *rotWriter, reopen bool) {
	shiftRotated(t, w.path)
	require.NoError(t, os.Rename(w.path, w.path+".1"))
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	if !reopen {
		return
	}
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

// TestFollowRotationUnderLoad rotates back to back while lines are
// written, never waiting for the Follower: bursts of rotations with no
// line in between, rename chains (.1 -> .2 -> ...), renames the writer
// only notices after a later one, copytruncate twice in a row, and mixes;
// polling slowly without fsnotify, so that one look sees many rotations.
func TestFollowRotationUnderLoad(t *testing.T) {
	for _, tc := range []struct {
		name  string
		poll  time.Duration
		watch bool
		// plan is the rotations of each request, cycled: R rename+create
		// and reopen, r rename+create without reopening, C copytruncate.
		plan []string
	}{
		{"rename+create", 20 * time.Millisecond, true, []string{"R"}},
		{"copytruncate", 20 * time.Millisecond, true, []string{"C"}},
		{"rename twice", 20 * time.Millisecond, true, []string{"RR", "rR"}},
		{"copytruncate twice", 20 * time.Millisecond, true, []string{"CC"}},
		{"mixed", 20 * time.Millisecond, true, []string{"R", "C", "RC", "CR", "rC", "CrR"}},
		{"mixed, slow poll", 150 * time.Millisecond, false, []string{"RC", "CR", "rR", "CC", "RR", "C"}},
		{"rename, slow poll", 150 * time.Millisecond, false, []string{"RR", "rR", "R"}},
		{"copytruncate, slow poll", 150 * time.Millisecond, false, []string{"CC", "C"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const total, every = 12000, 600
			dir := t.TempDir()
			path := filepath.Join(dir, "app.log")
			w := &rotWriter{path: path, reopen: make(chan chan struct{}, 1), stop: make(chan struct{})}

			var mu sync.Mutex
			var got []int
			done := make(chan struct{})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w.open(t) // the log exists when following starts
			fl := NewFollower(path, tc.poll)
			fl.watch = tc.watch
			ferr := make(chan error, 1)
			go func() {
				ferr <- fl.Run(ctx, nil, func(line []byte, _ int) error {
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
			go w.run(t, total, every, rotate)
			rotations, i := 0, 0
			for range rotate {
				for _, r := range tc.plan[i%len(tc.plan)] {
					switch r {
					case 'R':
						renameCreate(t, w, true)
					case 'r':
						renameCreate(t, w, false)
					case 'C':
						copyTruncate(t, w)
					}
					rotations++
				}
				i++
			}
			close(w.stop)
			select {
			case <-done:
			case err := <-ferr:
				t.Fatalf("Follower stopped: %v", err)
			case <-time.After(20 * time.Second):
				mu.Lock()
				ents, _ := os.ReadDir(dir)
				for _, e := range ents {
					fi, _ := e.Info()
					t.Logf("%s %v size %d", e.Name(), IDOf(fi), fi.Size())
				}
				t.Logf("last got %v", got[max(0, len(got)-3):])
				t.Fatalf("Follower got %d of %d lines before the deadline", len(got), total)
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
			assert.Empty(t, fl.Losses(), "no loss to report")
			assert.GreaterOrEqual(t, rotations, total/every, "rotations done")
		})
	}
}

func head(s []int) []int {
	if len(s) > 20 {
		return s[:20]
	}
	return s
}

// stepFollower is a Follower driven round by round, collecting lines.
type stepFollower struct {
	fl   *Follower
	got  []string
	path string
}

func newStepFollower(t *testing.T, path string) *stepFollower {
	s := &stepFollower{fl: NewFollower(path, time.Hour), path: path}
	require.NoError(t, s.fl.begin(nil))
	t.Cleanup(s.fl.close)
	return s
}

func (s *stepFollower) step(t *testing.T) {
	require.NoError(t, s.fl.step(func(line []byte, _ int) error {
		s.got = append(s.got, string(line))
		return nil
	}, true))
}

func appendLines(t *testing.T, path string, lines ...string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	require.NoError(t, err)
	for _, l := range lines {
		_, err = f.WriteString(l + "\n")
		require.NoError(t, err)
	}
	require.NoError(t, f.Close())
}

func rename(t *testing.T, from, to string) { require.NoError(t, os.Rename(from, to)) }

func copyTrunc(t *testing.T, path string) {
	shiftRotated(t, path)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path+".1", b, 0o644))
	require.NoError(t, os.Truncate(path, 0))
}

func gzipFile(t *testing.T, path string) {
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var buf strings.Builder
	zw := gzip.NewWriter(&buf)
	_, err = zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(path+".gz", []byte(buf.String()), 0o644))
	require.NoError(t, os.Remove(path))
}

// TestFollowRotationsWhileAsleep rotates several times between two looks
// of the Follower: everything still on disk is read once, in order, and
// what is gone is reported.
func TestFollowRotationsWhileAsleep(t *testing.T) {
	for _, tc := range []struct {
		name string
		// rotate runs between the Follower's first and second look, after
		// "a1", "a2" were written and read.
		rotate func(t *testing.T, path string)
		want   []string
		lost   bool
	}{
		{
			name: "rename+create three times, a chain .1 -> .3",
			rotate: func(t *testing.T, path string) {
				for _, l := range []string{"b", "c", "d"} {
					shiftRotated(t, path)
					rename(t, path, path+".1")
					appendLines(t, path, l)
				}
			},
			want: []string{"a1", "a2", "b", "c", "d"},
		},
		{
			name: "copytruncate twice",
			rotate: func(t *testing.T, path string) {
				appendLines(t, path, "a3")
				copyTrunc(t, path)
				appendLines(t, path, "b1", "b2")
				copyTrunc(t, path)
				appendLines(t, path, "c")
			},
			want: []string{"a1", "a2", "a3", "b1", "b2", "c"},
		},
		{
			name: "copytruncate, rename, copytruncate of the new file",
			rotate: func(t *testing.T, path string) {
				appendLines(t, path, "a3")
				copyTrunc(t, path)
				appendLines(t, path, "b")
				shiftRotated(t, path)
				rename(t, path, path+".1")
				appendLines(t, path, "c")
				copyTrunc(t, path)
				appendLines(t, path, "d")
			},
			want: []string{"a1", "a2", "a3", "b", "c", "d"},
		},
		{
			name: "renamed files compressed before they were read",
			rotate: func(t *testing.T, path string) {
				appendLines(t, path, "a3")
				for _, l := range []string{"b", "c"} {
					shiftRotated(t, path)
					rename(t, path, path+".1")
					appendLines(t, path, l)
				}
				gzipFile(t, path+".2")
				gzipFile(t, path+".1")
			},
			want: []string{"a1", "a2", "a3", "b", "c"},
		},
		{
			name: "a renamed file deleted before it was read",
			rotate: func(t *testing.T, path string) {
				for _, l := range []string{"b", "c"} {
					shiftRotated(t, path)
					rename(t, path, path+".1")
					appendLines(t, path, l)
				}
				require.NoError(t, os.Remove(path+".1"))
				require.NoError(t, os.Remove(path+".2"))
			},
			want: []string{"a1", "a2", "c"},
			lost: true,
		},
		{
			name: "copytruncate twice, the copies compressed before they were read",
			rotate: func(t *testing.T, path string) {
				appendLines(t, path, "a3")
				copyTrunc(t, path)
				appendLines(t, path, "b")
				copyTrunc(t, path)
				appendLines(t, path, "c")
				gzipFile(t, path+".2")
				gzipFile(t, path+".1")
			},
			want: []string{"a1", "a2", "a3", "b", "c"},
		},
		{
			name: "rename+create, then copytruncate of the new file",
			rotate: func(t *testing.T, path string) {
				appendLines(t, path, "a3")
				shiftRotated(t, path)
				rename(t, path, path+".1")
				appendLines(t, path, "b1", "b2")
				copyTrunc(t, path)
				appendLines(t, path, "c")
			},
			want: []string{"a1", "a2", "a3", "b1", "b2", "c"},
		},
		{
			name: "copytruncate whose copy is deleted",
			rotate: func(t *testing.T, path string) {
				appendLines(t, path, "a3")
				copyTrunc(t, path)
				require.NoError(t, os.Remove(path+".1"))
				appendLines(t, path, "b")
			},
			want: []string{"a1", "a2", "b"},
			lost: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.log")
			appendLines(t, path, "old")
			shiftRotated(t, path)
			rename(t, path, path+".1") // history, not read
			appendLines(t, path, "a1", "a2")
			s := newStepFollower(t, path)
			s.step(t)
			require.Equal(t, []string{"a1", "a2"}, s.got)
			tc.rotate(t, path)
			s.step(t)
			s.step(t)
			assert.Equal(t, tc.want, s.got)
			if tc.lost {
				require.NotEmpty(t, s.fl.Losses())
				assert.Contains(t, s.fl.Losses()[0], adviceRotation)
			} else {
				assert.Empty(t, s.fl.Losses())
			}
		})
	}
}
