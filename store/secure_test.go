package store

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The lock file is opened without following a symlink: a link planted in
// its place is refused and its target is left as it was (it used to be
// truncated).
func TestLockRefusesSymlink(t *testing.T) {
	s := &Store{StateDir: filepath.Join(t.TempDir(), "state")}
	d, err := s.ensureDir("web")
	require.NoError(t, err)
	victim := filepath.Join(t.TempDir(), "shadow")
	require.NoError(t, os.WriteFile(victim, []byte("root:x:0:0\n"), 0o600))
	require.NoError(t, os.Symlink(victim, filepath.Join(d, "lock")))
	_, err = s.Lock("web")
	require.ErrorIs(t, err, ErrUnsafe)
	b, _ := os.ReadFile(victim)
	assert.Equal(t, "root:x:0:0\n", string(b))
}

func TestStateCreatedPrivate(t *testing.T) {
	s := &Store{StateDir: filepath.Join(t.TempDir(), "state")}
	require.NoError(t, s.Manage(Meta{Name: "web", Profile: "/etc/apparmor.d/web"}))
	unlock, err := s.Lock("web")
	require.NoError(t, err)
	require.NoError(t, unlock())
	require.NoError(t, s.AppendJournal("web", JournalEntry{Event: EventInit}))
	_, err = s.SaveRevision("web", []byte("profile web {}\n"), Revision{})
	require.NoError(t, err)
	for _, p := range []string{"", "web", "web/revisions"} {
		fi, err := os.Stat(filepath.Join(s.StateDir, p))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), p)
	}
	for _, p := range []string{"web/meta.json", "web/lock", "web/journal.jsonl", "web/revisions/0001.profile", "web/revisions/0001.json"} {
		fi, err := os.Stat(filepath.Join(s.StateDir, p))
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), p)
	}
}

func TestStateRefusesUnsafe(t *testing.T) {
	tests := []struct {
		name  string
		spoil func(t *testing.T, s *Store)
	}{
		{"state dir writable by others", func(t *testing.T, s *Store) {
			require.NoError(t, os.Chmod(s.StateDir, 0o777))
		}},
		{"profile dir writable by group", func(t *testing.T, s *Store) {
			require.NoError(t, os.Chmod(filepath.Join(s.StateDir, "web"), 0o770))
		}},
		{"profile dir a symlink", func(t *testing.T, s *Store) {
			other := t.TempDir()
			require.NoError(t, os.RemoveAll(filepath.Join(s.StateDir, "web")))
			require.NoError(t, os.Symlink(other, filepath.Join(s.StateDir, "web")))
		}},
		{"meta owned by another user", func(t *testing.T, s *Store) {
			if os.Geteuid() != 0 {
				t.Skip("chown needs root")
			}
			require.NoError(t, os.Chown(filepath.Join(s.StateDir, "web", "meta.json"), 4242, 4242))
		}},
		{"journal a symlink", func(t *testing.T, s *Store) {
			target := filepath.Join(t.TempDir(), "target")
			require.NoError(t, os.WriteFile(target, nil, 0o600))
			require.NoError(t, os.Symlink(target, filepath.Join(s.StateDir, "web", "journal.jsonl")))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Store{StateDir: filepath.Join(t.TempDir(), "state")}
			require.NoError(t, s.Manage(Meta{Name: "web", Profile: "/etc/apparmor.d/web"}))
			tt.spoil(t, s)
			_, merr := s.Meta("web")
			jerr := s.AppendJournal("web", JournalEntry{Event: EventInit})
			_, lerr := s.Lock("web")
			assert.ErrorIs(t, errorsFirst(merr, jerr, lerr), ErrUnsafe)
		})
	}
}

// errorsFirst is the first non-nil error.
func errorsFirst(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
