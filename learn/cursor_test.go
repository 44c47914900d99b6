package learn

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A record dated in the future does not move the learn cursor: one line
// stamped 2100 used to make every later learn skip every later record as
// already read.
func TestFutureRecordDoesNotBlindCursor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	line := func(at time.Time, serial int, name string) string {
		return fmt.Sprintf(`[    9.000000] audit: type=1400 audit(%d.000:%d): apparmor="ALLOWED" operation="open" profile="aatest" name="%s" pid=130 comm="aatest" requested_mask="r" denied_mask="r" fsuid=0 ouid=1`+"\n", at.Unix(), serial, name)
	}
	now := time.Now()
	require.NoError(t, os.WriteFile(e.log, []byte(line(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), 1, "/etc/future")+line(now.Add(-time.Hour), 2, "/etc/one")+line(now.Add(-time.Hour), 3, "/etc/two")), 0o644))
	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, 3, res.Proposal.Counts.ForProfile)
	require.NoError(t, Resolve(e.dirs, "aatest"))

	f, err := os.OpenFile(e.log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(line(now.Add(-time.Minute), 4, "/etc/later"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	var c map[string]any
	ok, err := e.dirs.store().Cursor("aatest", &c)
	require.NoError(t, err)
	require.True(t, ok)
	src := c["sources"].([]any)[0].(map[string]any)
	assert.NotContains(t, fmt.Sprint(src["time"]), "2100", "the cursor is not dated by the future record")

	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, []string{"/etc/later r,"}, texts(res.Proposal))
}

// The clock set back after a learn: the records written after the cursor's
// position are learned, though they are dated before the newest record the
// cursor saw (it used to skip every record dated before that). The position
// in the file, not the time, says what came later; the time is only the
// stand-in for a position that cannot be found again.
func TestClockBackDoesNotBlindCursor(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	line := func(at time.Time, serial int, name string) string {
		return fmt.Sprintf(`[    9.000000] audit: type=1400 audit(%d.000:%d): apparmor="ALLOWED" operation="open" profile="aatest" name="%s" pid=130 comm="aatest" requested_mask="r" denied_mask="r" fsuid=0 ouid=1`+"\n", at.Unix(), serial, name)
	}
	now := time.Now()
	require.NoError(t, os.WriteFile(e.log, []byte(line(now.Add(-time.Minute), 1, "/etc/one")+line(now.Add(-time.Minute), 2, "/etc/two")), 0o644))
	res, err := Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, []string{"/etc/one r,", "/etc/two r,"}, texts(res.Proposal))
	require.NoError(t, Resolve(e.dirs, "aatest"))

	// The clock is set back an hour; the service goes on.
	f, err := os.OpenFile(e.log, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(line(now.Add(-time.Hour), 3, "/etc/after-the-step"))
	require.NoError(t, err)
	require.NoError(t, f.Close())
	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, []string{"/etc/after-the-step r,"}, texts(res.Proposal))
	assert.True(t, res.Resumed)
	require.NoError(t, Resolve(e.dirs, "aatest"))

	// Once more: nothing new, the position moved on.
	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Empty(t, texts(res.Proposal))

	// The file replaced by another (the position is lost): the cursor's
	// time still skips what was learned.
	require.NoError(t, os.Remove(e.log))
	require.NoError(t, os.WriteFile(e.log, []byte(line(now.Add(-time.Minute), 2, "/etc/two")+line(now.Add(time.Second), 4, "/etc/new")), 0o644))
	res, err = Learn(ctx, "aatest", e.learn)
	require.NoError(t, err)
	assert.Equal(t, []string{"/etc/new r,"}, texts(res.Proposal))
}
