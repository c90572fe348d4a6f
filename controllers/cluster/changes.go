package cluster

import (
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
)

// objectKey names an object within one store.
type objectKey struct{ namespace, name string }

// changeLog records which objects of one store changed since the source last
// listed it, so the source can patch its last sorted list instead of
// listing and sorting the whole store (listKind): at 100,000 Routes a
// one-Route change then costs a copy of the list, not a sort of it.
//
// The store writes first and records after; the source takes the log before
// it reads the store. A change that lands in between is read now and again
// next time, never lost. Safe for concurrent use.
type changeLog struct {
	mu     sync.Mutex
	keys   map[objectKey]struct{}
	relist bool
}

// record notes that obj changed (added, updated or deleted). An object
// without metadata (a deletion tombstone) asks for a full relist.
func (c *changeLog) record(obj any) {
	m, err := meta.Accessor(obj)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		c.relist = true
		return
	}
	if c.keys == nil {
		c.keys = map[objectKey]struct{}{}
	}
	c.keys[objectKey{m.GetNamespace(), m.GetName()}] = struct{}{}
}

// relistAll asks for a full relist (the store was replaced).
func (c *changeLog) relistAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.relist, c.keys = true, nil
}

// take returns and clears what changed since the last take.
func (c *changeLog) take() (keys map[objectKey]struct{}, relist bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	keys, relist = c.keys, c.relist
	c.keys, c.relist = nil, false
	return keys, relist
}
