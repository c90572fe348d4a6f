package function

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

// ErrQueueFull is returned when a function already has MaxQueue
// invocations waiting for a slot; the dataplane answers 429.
var ErrQueueFull = errors.New("the function's queue is full")

// slots hands out the invocation slots of one function (one Service port):
// each ready endpoint runs at most the route's concurrency invocations at
// once, and requests beyond that wait in one FIFO queue.
//
// Invariants:
//   - busy[hostPort] is the number of invocations in flight on that
//     endpoint; it is incremented only under mu, by pick's caller, and
//     decremented only by release. An invocation holds its slot until the
//     endpoint answered (or the hold limit passed), not until the client
//     stopped waiting: the Runtime Interface Emulator keeps running an
//     invocation its caller abandoned, and a second one sent to it meanwhile
//     crashes it.
//   - Waiters are served in arrival order: a new request takes a free slot
//     directly only when nobody waits.
//   - Every event that may free a slot or add one (release, an endpoint
//     change) dispatches the queue.
type slots struct {
	key string
	mu  sync.Mutex
	// busy counts the invocations in flight per endpoint ("ip:port").
	busy map[string]int
	// queue holds the waiting invocations, oldest first.
	queue []*waiter
	// rr rotates the choice among equally busy endpoints.
	rr int
}

// waiter is one invocation waiting for a slot.
type waiter struct {
	limit int
	since time.Time
	// ep receives the endpoint once a slot is assigned (buffered: dispatch
	// never blocks on a waiter that gave up).
	ep chan string
}

func newSlots(key string) *slots {
	return &slots{key: key, busy: map[string]int{}}
}

// acquire returns an endpoint with a free slot for an invocation that may
// run limit at once per endpoint, waiting in the queue (at most maxQueue
// long) until one frees or ctx ends. waited is the time spent queued.
func (s *slots) acquire(ctx context.Context, set *upstream.Set, limit, maxQueue int) (ep string, waited time.Duration, err error) {
	s.mu.Lock()
	if len(s.queue) == 0 {
		if ep, ok := s.pick(set, limit); ok {
			s.busy[ep]++
			s.mu.Unlock()
			return ep, 0, nil
		}
	}
	if len(s.queue) >= maxQueue {
		s.mu.Unlock()
		return "", 0, ErrQueueFull
	}
	w := &waiter{limit: limit, since: time.Now(), ep: make(chan string, 1)}
	s.queue = append(s.queue, w)
	s.mu.Unlock()

	select {
	case ep := <-w.ep:
		return ep, time.Since(w.since), nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	if s.remove(w) {
		s.mu.Unlock()
		return "", time.Since(w.since), context.Cause(ctx)
	}
	s.mu.Unlock()
	// A slot was assigned while ctx ended: give it back.
	s.release(<-w.ep, set)
	return "", time.Since(w.since), context.Cause(ctx)
}

// release frees one slot of ep and hands free slots to waiters.
func (s *slots) release(ep string, set *upstream.Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := s.busy[ep] - 1; n > 0 {
		s.busy[ep] = n
	} else {
		delete(s.busy, ep)
	}
	s.dispatch(set)
}

// dispatch assigns free slots to waiters, oldest first, and stops at the
// first one that cannot be served. Called with mu held.
func (s *slots) dispatch(set *upstream.Set) {
	for len(s.queue) > 0 {
		w := s.queue[0]
		ep, ok := s.pick(set, w.limit)
		if !ok {
			return
		}
		s.busy[ep]++
		w.ep <- ep
		s.queue[0] = nil
		s.queue = s.queue[1:]
	}
	if cap(s.queue) > 64 && len(s.queue) == 0 {
		s.queue = nil // let a burst's backing array go
	}
}

// remove takes w out of the queue; false when it is not there any more (a
// slot was assigned to it). Called with mu held.
func (s *slots) remove(w *waiter) bool {
	for i, q := range s.queue {
		if q == w {
			copy(s.queue[i:], s.queue[i+1:])
			s.queue[len(s.queue)-1] = nil
			s.queue = s.queue[:len(s.queue)-1]
			return true
		}
	}
	return false
}

// pick chooses the least busy endpoint of set with fewer than limit
// invocations in flight, preferring endpoints that did not refuse a
// connection lately (when all did, they are tried anyway: a Service whose
// pods all restarted must be retried); equally good endpoints are taken in
// turn. Called with mu held.
func (s *slots) pick(set *upstream.Set, limit int) (string, bool) {
	if set == nil {
		return "", false
	}
	n := set.Len()
	if n == 0 {
		return "", false
	}
	start := s.rr % n
	best, found := "", false
	var bestKey [3]int
	i := 0
	set.Each(func(ep string, refused bool) {
		if b := s.busy[ep]; b < limit {
			key := [3]int{btoi(refused), b, (i - start + n) % n}
			if !found || slices.Compare(key[:], bestKey[:]) < 0 {
				best, bestKey, found = ep, key, true
			}
		}
		i++
	})
	if found {
		s.rr++
	}
	return best, found
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// depth is the number of waiting invocations.
func (s *slots) depth() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.queue)
}

// inFlight is the number of invocations holding a slot.
func (s *slots) inFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, b := range s.busy {
		n += b
	}
	return n
}
