package cache

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// FakeClock is a Clock tests move by hand; it never ticks.
type fakeClock struct{ now atomic.Int64 }

func (c *fakeClock) NowNano() int64                      { return c.now.Load() }
func (c *fakeClock) Tick(time.Duration) <-chan time.Time { return nil }
func (c *fakeClock) advance(d time.Duration)             { c.now.Add(int64(d)) }
func newClock() *fakeClock                               { c := &fakeClock{}; c.now.Store(1_000_000_000); return c }

func cachedTable(t *testing.T, maxBytes int64, token string) (*table.Table, *table.Stage) {
	t.Helper()
	st := &table.Stage{Name: "prod", Object: "shop/prod", Routes: []*table.Route{}, Cache: &table.StageCache{TTLSeconds: 60, MaxBytes: maxBytes, FlushToken: token}}
	tbl, err := table.New([]*table.Api{{Namespace: "shop", Name: "pets", Protocol: table.ProtocolREST, Stages: []*table.Stage{st}}})
	if err != nil {
		t.Fatal(err)
	}
	return tbl, st
}

// stageCache is a store serving one cached stage of maxBytes, closed when
// the test ends.
func stageCache(t *testing.T, o Options, maxBytes int64) (*Store, *Stage) {
	t.Helper()
	s := NewStore(o)
	t.Cleanup(s.Close)
	tbl, st := cachedTable(t, maxBytes, "")
	s.Sync(tbl)
	return s, s.For(st)
}

// expectMiss looks key up, expects a miss, and ends the fill without an entry.
func expectMiss(t *testing.T, c *Stage, key, why string) {
	t.Helper()
	e, f := c.Lookup(context.Background(), key, 0)
	if e != nil {
		t.Fatal(why)
	}
	f.Done(nil)
}

func entry(body string, ttl time.Duration) *Entry {
	return &Entry{Status: 200, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(body), TTL: ttl}
}

// fill stores e under key as a request would: lookup, miss, done.
func fill(t *testing.T, c *Stage, key string, e *Entry) {
	t.Helper()
	got, f := c.Lookup(context.Background(), key, time.Second)
	if got != nil || f == nil {
		t.Fatalf("%s: expected a miss", key)
	}
	f.Done(e)
}

func TestEntriesExpireAfterTheirTTL(t *testing.T) {
	clk := newClock()
	_, c := stageCache(t, Options{Clock: clk}, 1<<20)
	fill(t, c, "short", entry("a", 10*time.Second))
	fill(t, c, "long", entry("b", 60*time.Second))
	clk.advance(9 * time.Second)
	for _, k := range []string{"short", "long"} {
		if e, _ := c.Lookup(context.Background(), k, 0); e == nil {
			t.Fatalf("%s expired too early", k)
		}
	}
	clk.advance(2 * time.Second)
	expectMiss(t, c, "short", "an expired entry was served")
	if e, _ := c.Lookup(context.Background(), "long", 0); e == nil || string(e.Body) != "b" {
		t.Fatal("the long entry expired with the short one")
	}
}

func TestTheSizeBoundEvictsEntries(t *testing.T) {
	s, c := stageCache(t, Options{}, 64<<10)
	body := strings.Repeat("x", 4<<10)
	for i := range 100 { // 100 × 4 KiB = 400 KiB into 64 KiB
		fill(t, c, "k"+string(rune('A'+i%26))+string(rune('a'+i/26)), entry(body, time.Minute))
	}
	c.CleanUp()
	stats := s.Stats()[0]
	if stats.Bytes > 64<<10 {
		t.Fatalf("the cache holds %d bytes, more than its bound of %d", stats.Bytes, 64<<10)
	}
	if stats.Entries == 0 || stats.Entries > 16 {
		t.Fatalf("%d entries of 4 KiB in a 64 KiB cache", stats.Entries)
	}
}

func TestSyncKeepsFlushesReplacesAndDropsStageCaches(t *testing.T) {
	s := NewStore(Options{})
	defer s.Close()
	tbl, st := cachedTable(t, 1<<20, "a")
	s.Sync(tbl)
	fill(t, s.For(st), "k", entry("v", time.Minute))

	same, st2 := cachedTable(t, 1<<20, "a") // an unrelated swap: a new table, same settings
	s.Sync(same)
	if s.For(st) != nil {
		t.Fatal("a stage of an old table still finds a cache")
	}
	if e, _ := s.For(st2).Lookup(context.Background(), "k", 0); e == nil {
		t.Fatal("an unrelated swap dropped the entry")
	}

	flushed, st3 := cachedTable(t, 1<<20, "b") // a new flush token
	s.Sync(flushed)
	if e, f := s.For(st3).Lookup(context.Background(), "k", 0); e != nil {
		t.Fatal("a new flush token kept the entry")
	} else {
		f.Done(entry("v2", time.Minute))
	}

	resized, st4 := cachedTable(t, 2<<20, "b") // a new size bound recreates the cache
	s.Sync(resized)
	expectMiss(t, s.For(st4), "k", "a resized cache kept the entry")

	empty, err := table.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Sync(empty)
	if len(s.Stats()) != 0 {
		t.Fatal("a stage that left the table kept its cache")
	}
	if _, ok := s.Flush("shop", "pets", "prod"); ok {
		t.Fatal("flushed a cache that no longer exists")
	}
}

func TestFlushEmptiesOneStage(t *testing.T) {
	s, c := stageCache(t, Options{}, 1<<20)
	fill(t, c, "k1", entry("1", time.Minute))
	fill(t, c, "k2", entry("2", time.Minute))
	n, ok := s.Flush("shop", "pets", "prod")
	if !ok || n != 2 {
		t.Fatalf("flush: %d %t", n, ok)
	}
	expectMiss(t, c, "k1", "a flushed entry was served")
	if _, ok := s.Flush("shop", "pets", "dev"); ok {
		t.Fatal("flushed a stage without a cache")
	}
}

func TestConcurrentMissesWaitForTheFirstOne(t *testing.T) {
	s, c := stageCache(t, Options{}, 1<<20)
	_, leader := c.Lookup(context.Background(), "k", time.Second)
	if leader == nil {
		t.Fatal("the first miss leads")
	}
	const waiters = 8
	var wg sync.WaitGroup
	var served atomic.Int32
	for range waiters {
		wg.Go(func() {
			if e, f := c.Lookup(context.Background(), "k", 10*time.Second); e != nil && f == nil && string(e.Body) == "v" {
				served.Add(1)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // let them wait
	leader.Done(entry("v", time.Minute))
	wg.Wait()
	if served.Load() != waiters {
		t.Fatalf("%d of %d waiters got the leader's entry", served.Load(), waiters)
	}
	st0 := s.Stats()[0]
	if st0.Misses != 1 || st0.Hits != waiters {
		t.Fatalf("hits %d misses %d", st0.Hits, st0.Misses)
	}
}

func TestAWaiterWhoseLeaderStoresNothingAsksItself(t *testing.T) {
	_, c := stageCache(t, Options{}, 1<<20)
	_, leader := c.Lookup(context.Background(), "k", time.Second)
	got := make(chan *Flight)
	go func() {
		_, f := c.Lookup(context.Background(), "k", 10*time.Second)
		got <- f
	}()
	time.Sleep(20 * time.Millisecond)
	leader.Done(nil) // a 500, say
	f := <-got
	if f == nil || f.done != nil {
		t.Fatal("the waiter must fill on its own, with nobody waiting on it")
	}
	// ... and a waiter whose wait runs out asks itself too.
	_, leader = c.Lookup(context.Background(), "k2", time.Second)
	defer leader.Done(nil)
	if e, f := c.Lookup(context.Background(), "k2", 10*time.Millisecond); e != nil || f == nil {
		t.Fatal("a waiter past its wait must go on alone")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if e, f := c.Lookup(ctx, "k2", time.Minute); e != nil || f == nil {
		t.Fatal("a waiter whose request ended must not wait")
	}
}

func TestRecorderAndCacheability(t *testing.T) {
	var r Recorder
	r.Write([]byte("ab"))
	r.Write([]byte("c"))
	if b, ok := r.Body(); !ok || string(b) != "abc" {
		t.Fatalf("%q %t", b, ok)
	}
	r.Write(make([]byte, MaxEntryBytes))
	if _, ok := r.Body(); ok {
		t.Fatal("a body over 1 MiB is not cached")
	}
	var aborted Recorder
	aborted.Write([]byte("a"))
	aborted.Abort()
	if _, ok := aborted.Body(); ok {
		t.Fatal("an aborted body is not cached")
	}
	for _, tc := range []struct {
		status int
		h      http.Header
		want   bool
	}{
		{200, http.Header{}, true},
		{204, http.Header{}, true},
		{304, http.Header{}, false},
		{404, http.Header{}, false},
		{500, http.Header{}, false},
		{200, http.Header{"Set-Cookie": {"a=b"}}, false},
		{200, http.Header{"Trailer": {"X-Sum"}}, false},
	} {
		if got := Cacheable(tc.status, tc.h); got != tc.want {
			t.Errorf("Cacheable(%d, %v) = %t", tc.status, tc.h, got)
		}
	}
	stored := StoredHeader(http.Header{"Content-Type": {"a"}, "Content-Length": {"3"}, "Date": {"x"}, "X-Request-Id": {"r"}, "Access-Control-Allow-Origin": {"*"}})
	if len(stored) != 2 || stored.Get("Content-Type") != "a" || stored.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("stored %v", stored)
	}
}

func TestKeysOfDifferentRequestsDiffer(t *testing.T) {
	key := func(canary bool, params ...[]string) string {
		var k Key
		k.Reset(nil, "route", "GET", canary)
		for _, p := range params {
			k.Add(p)
		}
		return k.String()
	}
	distinct := []string{
		key(false, []string{"a,b"}),
		key(false, []string{"a", "b"}),
		key(false, []string{"ab"}),
		key(false, nil),
		key(false, []string{""}),
		key(false, []string{"a"}, nil),
		key(false, nil, []string{"a"}),
		key(true, []string{"a,b"}),
	}
	seen := map[string]int{}
	for i, k := range distinct {
		if j, dup := seen[k]; dup {
			t.Fatalf("keys %d and %d collide", j, i)
		}
		seen[k] = i
	}
	if a, b := key(false, []string{"x"}), key(false, []string{"x"}); a != b {
		t.Fatal("equal requests must share a key")
	}
}
