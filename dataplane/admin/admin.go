// Package admin serves the gateway's operator endpoints, apart from the
// request chain: health probes (/healthz, /readyz) on --health-addr, and on
// --admin-addr (loopback by default, never to be exposed) the routing table
// in effect (/table), usage-plan usage (/usage/{namespace}/{plan}),
// response cache flushes (POST /cache/{namespace}/{api}/{stage}/flush) and
// Go's profiler (/debug/pprof/).
//
// Invariants:
//   - Handlers only read (the table through a loader, one atomic load per
//     request, and the limiter's counters), except the cache flush, which
//     only empties a response cache: no handler changes configuration.
//   - The package knows the table and the limiter, not the dataplane
//     server: the server hands it what it reads (Options), so the admin
//     endpoints can move or grow without touching the request chain.
package admin

import (
	"encoding/json"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
)

// Options are what the admin endpoints read.
type Options struct {
	// Table returns the table in effect (nil before the first one).
	Table func() *table.Table
	// Limiter holds the quota counters the usage report reads.
	Limiter throttle.Limiter
	// Now is the clock of the usage report's period (time.Now when nil).
	Now func() time.Time
	// FlushCache empties a stage's response cache and returns how many
	// entries it held; ok is false when the stage has no cache.
	FlushCache func(namespace, api, stage string) (entries int, ok bool)
}

// Handler serves /table, /usage/, /cache/.../flush and /debug/pprof/.
func Handler(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	mux := http.NewServeMux()
	mux.Handle("/table", tableHandler(o.Table))
	mux.Handle("/usage/", usageHandler(o))
	mux.Handle("POST /cache/{namespace}/{api}/{stage}/flush", cacheFlushHandler(o.FlushCache))
	// Go's profiler, for "why is it slow" questions on a live gateway.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// tableHandler answers GET /table with the routing table in effect, for
// "what does the gateway actually serve" questions.
func tableHandler(tables func() *table.Table) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, tables())
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v) // an operator who hangs up needs no answer
}
