// Package cache is the response cache of REST-style stages (Stage.cache,
// Route.cache; AWS API Gateway's stage cache), in memory per replica.
//
// Invariants:
//   - The Store outlives routing tables (architecture.md §6): a stage's
//     cache is keyed by its identity (namespace/api/stage) and kept across
//     swaps while its size bound is unchanged, so an unrelated edit never
//     drops entries. Entry keys start with the route's cache key
//     (table.RouteCache.Key), which changes with the route's configuration,
//     so an edited route never serves answers of its old configuration.
//   - Each stage's cache is bounded by its maxBytes, entries weighted by
//     their size (otter's W-TinyLFU eviction); an entry outlives its time to
//     live by nothing: expired entries are never served.
//   - Concurrent misses of one key send one request to the integration
//     (Lookup makes the first a leader; the others wait for its entry).
//   - A flush (annotation or admin endpoint) empties one stage's cache at
//     once; entries being filled when it happens may still be stored.
package cache

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/maypok86/otter/v2"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// MaxEntryBytes bounds the body of one entry: larger answers are not
// cached (AWS: cached items are at most 1 MiB).
const MaxEntryBytes = 1 << 20

// entryOverhead approximates what an entry costs besides its key, header
// and body (the weigher adds it, so tiny entries still count).
const entryOverhead = 128

// Entry is a cached answer: the integration's status, header and body as
// the client got them (after response parameter mapping, before CORS and
// the gateway's own headers). Entries are shared between requests: never
// mutate one.
type Entry struct {
	Status int
	Header http.Header
	Body   []byte
	// TTL is how long the entry lives from when it is stored.
	TTL time.Duration
}

// weight is the entry's cost in bytes for the stage's bound.
func (e *Entry) weight(key string) uint32 {
	n := len(key) + len(e.Body) + entryOverhead
	for k, vs := range e.Header {
		n += len(k)
		for _, v := range vs {
			n += len(v)
		}
	}
	return uint32(min(n, 1<<31))
}

// Clock is the time source of the entries' time to live (otter.Clock);
// tests inject one to expire entries without waiting.
type Clock = otter.Clock

// Options configure a Store.
type Options struct {
	// Clock decides when entries expire; nil is the real clock.
	Clock Clock
}

// Store holds the response caches of every cached stage.
type Store struct {
	opts Options
	// mu serialises Sync, Flush and Close; requests never take it.
	mu     sync.Mutex
	stages map[string]*Stage
	// bound maps the current table's stages to their caches: a request
	// finds its stage's cache with one atomic load and one map lookup.
	bound atomic.Pointer[map[*table.Stage]*Stage]
}

// NewStore returns an empty store.
func NewStore(o Options) *Store {
	s := &Store{opts: o, stages: map[string]*Stage{}}
	s.bound.Store(&map[*table.Stage]*Stage{})
	return s
}

// StageID is the identity of a stage's cache: namespace/api/stage.
func StageID(namespace, api, stage string) string { return namespace + "/" + api + "/" + stage }

// Sync makes the store serve table t: every stage of t with a cache gets
// its cache, kept from before when the stage's identity and size bound are
// unchanged (flushed when its flush token changed), new otherwise; caches
// of stages t no longer caches are dropped.
func (s *Store) Sync(t *table.Table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := map[string]*Stage{}
	bound := map[*table.Stage]*Stage{}
	for _, a := range t.Apis {
		for _, st := range a.Stages {
			cfg := st.Cache
			if cfg == nil {
				continue
			}
			id := StageID(a.Namespace, a.Name, st.Name)
			c := s.stages[id]
			switch {
			case c == nil || c.maxBytes != cfg.MaxBytes:
				if c != nil {
					c.close()
				}
				c = s.newStage(a, st.Name, cfg)
			case c.flushToken != cfg.FlushToken:
				c.flush()
				c.flushToken = cfg.FlushToken
			}
			next[id], bound[st] = c, c
		}
	}
	for id, c := range s.stages {
		if next[id] == nil {
			c.close()
		}
	}
	s.stages = next
	s.bound.Store(&bound)
}

// For returns the cache of st (a stage of the table last synced), nil when
// it has none.
func (s *Store) For(st *table.Stage) *Stage { return (*s.bound.Load())[st] }

// Flush empties the cache of a stage and returns how many entries it held;
// ok is false when the stage has no cache.
func (s *Store) Flush(namespace, api, stage string) (entries int, ok bool) {
	s.mu.Lock()
	c := s.stages[StageID(namespace, api, stage)]
	s.mu.Unlock()
	if c == nil {
		return 0, false
	}
	return c.flush(), true
}

// Close stops the caches' maintenance goroutines.
func (s *Store) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.stages {
		c.close()
	}
	s.stages = map[string]*Stage{}
	s.bound.Store(&map[*table.Stage]*Stage{})
}

// StageStats are one stage cache's counters (for metrics).
type StageStats struct {
	// Namespace, Api and Stage name the stage.
	Namespace, Api, Stage string
	Hits, Misses          uint64
	Entries               int
	Bytes                 uint64
}

// Stats reports every stage cache's counters, in no particular order.
func (s *Store) Stats() []StageStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StageStats, 0, len(s.stages))
	for _, c := range s.stages {
		out = append(out, StageStats{
			Namespace: c.namespace, Api: c.api, Stage: c.stage,
			Hits: c.hits.Load(), Misses: c.misses.Load(),
			Entries: c.c.EstimatedSize(), Bytes: c.c.WeightedSize(),
		})
	}
	return out
}

// Stage is one stage's cache.
type Stage struct {
	namespace, api, stage string
	maxBytes              int64
	flushToken            string // guarded by Store.mu
	c                     *otter.Cache[string, *Entry]

	mu      sync.Mutex // guards flights
	flights map[string]*Flight

	hits, misses atomic.Uint64
}

func (s *Store) newStage(a *table.Api, name string, cfg *table.StageCache) *Stage {
	c := otter.Must(&otter.Options[string, *Entry]{
		MaximumWeight: uint64(max(cfg.MaxBytes, 1)),
		Weigher:       func(k string, e *Entry) uint32 { return e.weight(k) },
		ExpiryCalculator: otter.ExpiryWritingFunc(func(e otter.Entry[string, *Entry]) time.Duration {
			return e.Value.TTL
		}),
		Clock: s.opts.Clock,
	})
	return &Stage{
		namespace: a.Namespace, api: a.Name, stage: name,
		maxBytes: cfg.MaxBytes, flushToken: cfg.FlushToken, c: c, flights: map[string]*Flight{},
	}
}

func (c *Stage) flush() int {
	n := c.c.EstimatedSize()
	c.c.InvalidateAll()
	return n
}

func (c *Stage) close() {
	c.c.InvalidateAll()
	c.c.StopAllGoroutines()
}

// Flight is a pending fill of one key: the request that got it sends its
// request to the integration and must call Done once its response is
// complete (or aborted), whatever happened.
type Flight struct {
	c    *Stage
	key  string
	done chan struct{} // nil for a fill nobody waits on
}

// Lookup finds key. A hit returns the entry. A miss returns a Flight: the
// caller fills it. When another request is filling the key already, Lookup
// waits for it (at most wait, and never after ctx ends) and returns its
// entry; if that request stored none, the caller gets a Flight of its own
// that nobody waits on.
func (c *Stage) Lookup(ctx context.Context, key string, wait time.Duration) (*Entry, *Flight) {
	if e, ok := c.c.GetIfPresent(key); ok {
		c.hits.Add(1)
		return e, nil
	}
	c.mu.Lock()
	if f := c.flights[key]; f != nil {
		c.mu.Unlock()
		if e := f.wait(ctx, wait); e != nil {
			c.hits.Add(1)
			return e, nil
		}
		c.misses.Add(1)
		return nil, &Flight{c: c, key: key}
	}
	f := &Flight{c: c, key: key, done: make(chan struct{})}
	c.flights[key] = f
	c.mu.Unlock()
	c.misses.Add(1)
	return nil, f
}

// Refresh returns a Flight that replaces key's entry without looking it up
// (Cache-Control: max-age=0 from a caller allowed to invalidate).
func (c *Stage) Refresh(key string) *Flight {
	c.misses.Add(1)
	return &Flight{c: c, key: key}
}

// wait blocks until f is done, ctx ends or wait passes, and returns the
// entry f stored (nil if none).
func (f *Flight) wait(ctx context.Context, wait time.Duration) *Entry {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-f.done:
		e, _ := f.c.c.GetIfPresent(f.key)
		return e
	case <-ctx.Done():
	case <-t.C:
	}
	return nil
}

// Done ends the fill: e, when not nil, is stored; requests waiting for the
// key then get it.
func (f *Flight) Done(e *Entry) {
	if e != nil {
		f.c.c.Set(f.key, e)
	}
	if f.done == nil {
		return
	}
	f.c.mu.Lock()
	if f.c.flights[f.key] == f {
		delete(f.c.flights, f.key)
	}
	f.c.mu.Unlock()
	close(f.done)
}

// Len is the number of entries (approximate while evictions are pending).
func (c *Stage) Len() int { return c.c.EstimatedSize() }

// CleanUp runs pending maintenance (evictions) now; for tests.
func (c *Stage) CleanUp() { c.c.CleanUp() }
