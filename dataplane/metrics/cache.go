package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// ResponseCacheStats are one stage response cache's counters
// (dataplane/cache), read at scrape time.
type ResponseCacheStats struct {
	Namespace, Api, Stage string
	Hits, Misses          uint64
	Entries               int
	Bytes                 uint64
}

// SetResponseCache makes the response cache metrics
// (turnpike_cache_hits_total, turnpike_cache_misses_total — AWS
// CacheHitCount and CacheMissCount — and turnpike_cache_entries,
// turnpike_cache_bytes, per stage) read stats at scrape time: the caches
// keep their own counters, so a lookup costs no metric update. Until it is
// set the metrics are not exported.
func (m *Metrics) SetResponseCache(stats func() []ResponseCacheStats) {
	if m == nil || stats == nil {
		return
	}
	m.responseCache.stats.Store(&stats)
}

// responseCacheCollector exports the response cache counters at scrape time.
type responseCacheCollector struct {
	hits, misses, entries, bytes *prometheus.Desc
	stats                        atomic.Pointer[func() []ResponseCacheStats]
}

func newResponseCacheCollector() *responseCacheCollector {
	labels := []string{LabelNamespace, LabelAPI, LabelStage}
	return &responseCacheCollector{
		hits: prometheus.NewDesc("turnpike_cache_hits_total",
			"Requests answered from the stage's response cache (AWS CacheHitCount).", labels, nil),
		misses: prometheus.NewDesc("turnpike_cache_misses_total",
			"Requests of cached routes sent to the integration: nothing cached yet, expired, or refreshed with Cache-Control: max-age=0 (AWS CacheMissCount).", labels, nil),
		entries: prometheus.NewDesc("turnpike_cache_entries",
			"Entries in the stage's response cache (approximate while evictions are pending).", labels, nil),
		bytes: prometheus.NewDesc("turnpike_cache_bytes",
			"Weighted size in bytes of the stage's response cache entries, bounded by the stage's cache.maxBytes.", labels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *responseCacheCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.hits
	ch <- c.misses
	ch <- c.entries
	ch <- c.bytes
}

// Collect implements prometheus.Collector.
func (c *responseCacheCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.stats.Load()
	if f == nil {
		return
	}
	for _, s := range (*f)() {
		ch <- prometheus.MustNewConstMetric(c.hits, prometheus.CounterValue, float64(s.Hits), s.Namespace, s.Api, s.Stage)
		ch <- prometheus.MustNewConstMetric(c.misses, prometheus.CounterValue, float64(s.Misses), s.Namespace, s.Api, s.Stage)
		ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries), s.Namespace, s.Api, s.Stage)
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes), s.Namespace, s.Api, s.Stage)
	}
}
