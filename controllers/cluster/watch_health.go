package cluster

import (
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// watchHealth follows the list and watch calls of every kindWatch, logs when
// the gateway loses sight of the API server and when it sees it again (once
// per outage, not once per retry), and exports per resource whether its
// watch is up and when it was last known to be current.
//
// A resource is "up" from a successful list or watch call until a call
// fails; "current" means up, so its last sync time is the scrape time while
// it is up and the moment it was lost otherwise.
type watchHealth struct {
	log logr.Logger
	now func() time.Time

	mu        sync.Mutex
	resources map[string]*resourceHealth
	// lostSince is when the current outage began (zero: every watch is up).
	lostSince time.Time
}

type resourceHealth struct {
	up     bool
	listed bool      // up at least once
	lostAt time.Time // when it was last known current (after listed)
	// recovering: a call failed and no watch was established since; limit
	// bounds each call meanwhile (doubling when a call runs out of it), and
	// relistedAt is the first successful list of the recovery.
	recovering bool
	limit      time.Duration
	relistedAt time.Time
}

// Recovery limits: the first call after an outage may take
// initialRecoveryLimit, each call that runs out of time doubles it, and
// recoveryWindow after the first successful list calls are no longer limited
// (behind a proxy that holds a watch's headers until its first event, a
// watch is never quick).
const (
	initialRecoveryLimit = time.Second
	recoveryWindow       = 30 * time.Second
)

// recoveryLimit is how long a call of resource may take while it recovers
// from an outage; 0 when it is not recovering (no limit).
func (h *watchHealth) recoveryLimit(resource string) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.resources[resource]
	if r == nil || !r.recovering || (!r.relistedAt.IsZero() && h.now().Sub(r.relistedAt) >= recoveryWindow) {
		return 0
	}
	return r.limit
}

// heldBack records that a call of resource ran out of its recovery limit.
func (h *watchHealth) heldBack(resource string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.resources[resource]; r != nil {
		r.limit *= 2
	}
}

func newWatchHealth(log logr.Logger, resources []string) *watchHealth {
	h := &watchHealth{log: log, now: time.Now, resources: map[string]*resourceHealth{}}
	for _, r := range resources {
		h.resources[r] = &resourceHealth{}
	}
	return h
}

// ok records a successful list or watch call for resource; the last watch
// to come back ends the outage and says so.
func (h *watchHealth) ok(resource string, isWatch bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.resources[resource]
	if r == nil {
		return
	}
	switch {
	case isWatch:
		r.recovering = false
	case r.recovering && r.relistedAt.IsZero():
		r.relistedAt = h.now()
	}
	if r.up {
		return
	}
	r.up, r.listed = true, true
	if h.lostSince.IsZero() || len(h.downLocked()) > 0 {
		return
	}
	h.log.Info("watches are back: edits apply again", "after", h.now().Sub(h.lostSince).Round(time.Millisecond).String())
	h.lostSince = time.Time{}
}

// failed records a failed call for resource; the first failure of an outage
// says what happened and what the gateway does meanwhile.
func (h *watchHealth) failed(resource string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.resources[resource]
	if r == nil {
		return
	}
	now := h.now()
	wasUp := r.up
	if wasUp {
		r.lostAt = now
	}
	if !r.recovering {
		r.recovering, r.limit, r.relistedAt = true, initialRecoveryLimit, time.Time{}
	}
	r.up = false
	if !h.lostSince.IsZero() {
		if wasUp {
			h.log.V(1).Info("watch lost", "resource", resource, "error", err.Error())
		}
		return
	}
	h.lostSince = now
	if !r.listed {
		h.log.Error(err, "cannot list a resource yet: the gateway is not ready until every resource is listed; retrying every second",
			"resource", resource, "hint", hintFor(err))
		return
	}
	h.log.Error(err, "watches lost: the gateway keeps serving its last table and retries every second; edits made meanwhile apply once the API server answers again",
		"resource", resource, "hint", hintFor(err))
}

// downLocked lists the resources whose watch is not up, sorted.
func (h *watchHealth) downLocked() []string {
	var out []string
	for name, r := range h.resources {
		if !r.up {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// hintFor says what an error of a list or watch call usually means.
func hintFor(err error) string {
	switch {
	case apierrors.IsNotFound(err):
		return "the resource is not served: are the CRDs installed (kubectl apply --server-side -k config/crd)?"
	case apierrors.IsForbidden(err):
		return "the gateway's ServiceAccount may not list or watch it: check the RBAC of config/rbac or the chart"
	case apierrors.IsUnauthorized(err):
		return "the API server does not accept the gateway's credentials"
	}
	return "the API server is unreachable or not ready"
}

// watchCollector exports watchHealth as Prometheus metrics.
type watchCollector struct {
	h            *watchHealth
	up, lastSync *prometheus.Desc
}

func newWatchCollector(h *watchHealth) *watchCollector {
	return &watchCollector{
		h: h,
		up: prometheus.NewDesc("turnpike_watch_up",
			"1 while the watch of a resource on the API server is established, 0 while it is lost.", []string{"resource"}, nil),
		lastSync: prometheus.NewDesc("turnpike_watch_last_sync_timestamp_seconds",
			"Unix time at which the gateway's view of a resource was last known current: now while its watch is up, "+
				"else when it was lost (0: never listed). Alert on time() minus this.", []string{"resource"}, nil),
	}
}

func (c *watchCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.lastSync
}

func (c *watchCollector) Collect(ch chan<- prometheus.Metric) {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	now := c.h.now()
	names := make([]string, 0, len(c.h.resources))
	for name := range c.h.resources {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		r := c.h.resources[name]
		up, last := 0.0, 0.0
		switch {
		case r.up:
			up, last = 1, float64(now.UnixNano())/1e9
		case r.listed:
			last = float64(r.lostAt.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, name)
		ch <- prometheus.MustNewConstMetric(c.lastSync, prometheus.GaugeValue, last, name)
	}
}
