package cluster

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func newTestHealth(t *testing.T) (*watchHealth, *logLines, *time.Time) {
	t.Helper()
	logs := &logLines{}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	h := newWatchHealth(logs.logger(), []string{"routes.turnpike.io", "services"})
	h.now = func() time.Time { return now }
	return h, logs, &now
}

func TestAnOutageIsLoggedOnceWhenLostAndOnceWhenEveryWatchIsBack(t *testing.T) {
	h, logs, now := newTestHealth(t)
	h.ok("routes.turnpike.io", false)
	h.ok("services", false)
	refused := errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	for range 10 { // a retry every second: one line, not ten
		h.failed("routes.turnpike.io", refused)
		h.failed("services", refused)
		*now = now.Add(time.Second)
	}
	require.Len(t, logs.matching("watches lost"), 1)
	require.Len(t, logs.matching("the API server is unreachable or not ready"), 1)

	h.ok("routes.turnpike.io", false)
	require.Empty(t, logs.matching("watches are back"), "one watch is still lost")
	h.ok("services", true)
	require.Len(t, logs.matching("watches are back", "10s"), 1)
}

func TestWatchMetricsShowWhenEachWatchWasLastKnownCurrent(t *testing.T) {
	h, _, now := newTestHealth(t)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(newWatchCollector(h)))
	h.ok("routes.turnpike.io", true)
	lostAt := *now
	h.failed("routes.turnpike.io", errors.New("connection refused"))
	*now = now.Add(time.Minute)

	want := `
# HELP turnpike_watch_up 1 while the watch of a resource on the API server is established, 0 while it is lost.
# TYPE turnpike_watch_up gauge
turnpike_watch_up{resource="routes.turnpike.io"} 0
turnpike_watch_up{resource="services"} 0
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "turnpike_watch_up"))
	mfs, err := reg.Gather()
	require.NoError(t, err)
	last := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "turnpike_watch_last_sync_timestamp_seconds" {
			for _, m := range mf.GetMetric() {
				last[m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
			}
		}
	}
	require.InDelta(t, float64(lostAt.Unix()), last["routes.turnpike.io"], 0.001, "when it was lost")
	require.Zero(t, last["services"], "never listed")

	h.ok("routes.turnpike.io", true)
	mfs, err = reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == "turnpike_watch_last_sync_timestamp_seconds" {
			require.InDelta(t, float64(now.Unix()), mf.GetMetric()[0].GetGauge().GetValue(), 0.001, "up: current now")
		}
	}
}

func TestCallsAfterAnOutageAreBoundedWithADoublingLimitUntilAWatchIsEstablished(t *testing.T) {
	h, _, now := newTestHealth(t)
	require.Zero(t, h.recoveryLimit("services"), "no outage: no limit")
	h.failed("services", errors.New("connection refused"))
	require.Equal(t, initialRecoveryLimit, h.recoveryLimit("services"))
	h.heldBack("services")
	h.heldBack("services")
	require.Equal(t, 4*initialRecoveryLimit, h.recoveryLimit("services"))
	h.failed("services", errors.New("connection refused"))
	require.Equal(t, 4*initialRecoveryLimit, h.recoveryLimit("services"), "the same recovery keeps its limit")

	h.ok("services", false) // relisted
	*now = now.Add(recoveryWindow)
	require.Zero(t, h.recoveryLimit("services"), "past the window calls wait as long as they need")

	h.failed("routes.turnpike.io", errors.New("connection refused"))
	h.ok("routes.turnpike.io", true)
	require.Zero(t, h.recoveryLimit("routes.turnpike.io"), "an established watch ends the recovery")
}

func TestLostWatchesGetAHintForMissingCRDsAndRBAC(t *testing.T) {
	gr := schema.GroupResource{Group: "turnpike.io", Resource: "routes"}
	require.Contains(t, hintFor(apierrors.NewNotFound(gr, "")), "are the CRDs installed")
	require.Contains(t, hintFor(apierrors.NewForbidden(gr, "", errors.New("no"))), "RBAC")
	require.Contains(t, hintFor(errors.New("connection refused")), "unreachable")
}
