package request

import (
	"container/list"
	"sync"
	"sync/atomic"
	"time"
)

// Cache bounds (per process, over all authorizers).
const (
	// DefaultMaxEntries bounds the number of cached answers.
	DefaultMaxEntries = 10_000
	// DefaultMaxBytes bounds the bytes of cached answers (their raw size
	// plus entryOverhead each).
	DefaultMaxBytes = 64 << 20
)

// entryOverhead is what one entry is accounted for besides its answer's raw
// size: the fixed-size key and the bookkeeping (map slot, list element,
// entry). Keys are hashes, so nothing a client sends grows an entry.
const entryOverhead = 256

// cache holds authorizer answers by key until they expire, least recently
// used first out when a bound is reached. It lives in the Client, outside
// the routing table, so a table swap keeps it.
type cache struct {
	maxEntries, maxBytes int

	mu    sync.Mutex
	items map[cacheKeyHash]*list.Element
	lru   list.List // front = most recently used; values are *cacheEntry
	bytes int

	hits, misses atomic.Uint64
}

type cacheEntry struct {
	key     cacheKeyHash
	ans     *answer
	expires time.Time
}

func newCache(maxEntries, maxBytes int) *cache {
	return &cache{maxEntries: maxEntries, maxBytes: maxBytes, items: map[cacheKeyHash]*list.Element{}}
}

// get returns the answer cached for key if it has not expired at now.
func (c *cache) get(key cacheKeyHash, now time.Time) *answer {
	c.mu.Lock()
	defer c.mu.Unlock()
	el := c.items[key]
	if el == nil {
		c.misses.Add(1)
		return nil
	}
	e := el.Value.(*cacheEntry)
	if !now.Before(e.expires) {
		c.remove(el)
		c.misses.Add(1)
		return nil
	}
	c.lru.MoveToFront(el)
	c.hits.Add(1)
	return e.ans
}

// put stores ans for key until expires, evicting least recently used
// entries beyond the bounds. An entry larger than the byte bound is not
// cached at all.
func (c *cache) put(key cacheKeyHash, ans *answer, expires time.Time) {
	if entrySize(ans) > c.maxBytes {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el := c.items[key]; el != nil {
		c.remove(el)
	}
	c.items[key] = c.lru.PushFront(&cacheEntry{key: key, ans: ans, expires: expires})
	c.bytes += entrySize(ans)
	for c.lru.Len() > c.maxEntries || c.bytes > c.maxBytes {
		c.remove(c.lru.Back())
	}
}

// remove drops el; the caller holds mu.
func (c *cache) remove(el *list.Element) {
	e := el.Value.(*cacheEntry)
	c.lru.Remove(el)
	delete(c.items, e.key)
	c.bytes -= entrySize(e.ans)
}

// entrySize is the bytes an entry holding ans is accounted for.
func entrySize(ans *answer) int { return ans.size + entryOverhead }

// len is the number of entries (tests, metrics).
func (c *cache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// size is the accounted bytes of all entries (tests, metrics).
func (c *cache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// atomicCounter counts authorizer calls.
type atomicCounter = atomic.Uint64
