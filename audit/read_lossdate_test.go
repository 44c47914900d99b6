package audit

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/aa-flow/aa-flow/audit/source"
	"github.com/aa-flow/aa-flow/internal/testutil"
)

// A loss report in /dev/kmsg carries no audit(...) stamp: it takes the
// record's boot-relative time, made wall-clock, so that one logged at boot
// falls outside a window that starts later, and one logged now inside it.
func TestReadDatesKmsgLoss(t *testing.T) {
	var ts unix.Timespec
	require.NoError(t, unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts))
	up := time.Duration(ts.Nano())
	require.Greater(t, up, 2*time.Minute, "the test needs a host up for more than two minutes")
	kmsg := filepath.Join(t.TempDir(), "kmsg")
	testutil.WriteFile(t, kmsg, []byte(fmt.Sprintf("4,10,%d,-;kauditd_printk_skb: 90 callbacks suppressed\n4,11,%d,-;kauditd_printk_skb: 7 callbacks suppressed\n",
		(2*time.Second).Microseconds(), (up-time.Second).Microseconds())))
	since := time.Now().Add(-time.Minute)
	res, err := readSources(context.Background(), ReadOptions{Since: since}, []source.Source{source.Kmsg(kmsg, source.Options{})}, func(*Event) error { return nil })
	require.NoError(t, err)
	require.Len(t, res.Stats.Lost, 2)
	assert.True(t, res.Stats.Lost[0].Time.Before(since), "logged at boot: %v", res.Stats.Lost[0].Time)
	assert.WithinDuration(t, time.Now(), res.Stats.Lost[1].Time, 10*time.Second)
}
