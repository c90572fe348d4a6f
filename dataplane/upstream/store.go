// Package upstream holds the dataplane state about backends that must outlive a
// routing table: the endpoint sets of Services (with their round-robin
// position and "refused" marks) and the egress guard every outbound dial goes
// through.
//
// Invariants:
//   - A Store is safe for concurrent use. Get and Set.Next are lock-free (one
//     atomic load each); only Update takes a mutex, so EndpointSlice churn never
//     stalls requests.
//   - A Set keeps its identity for as long as its key is present in the sets
//     given to Update: a table swap or an endpoint change never resets the
//     round-robin position or forgets which endpoints refused connections.
//   - Endpoint lists handed to Update are never mutated by this package.
package upstream

import (
	"maps"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// RefusedBackoff is how long an endpoint that refused a connection is skipped
// by Set.Next. Long enough that a crashed pod does not cost every request a
// refused dial, short enough that a restarted pod gets traffic again before the
// EndpointSlice would even have noticed it was gone.
const RefusedBackoff = 5 * time.Second

// Store maps ServiceTarget.Key() to the Set of ready endpoints of that Service
// port. The zero value is not usable; call NewStore.
type Store struct {
	mu   sync.Mutex // serialises Update
	sets atomic.Pointer[map[string]*Set]
}

// NewStore returns an empty Store: every Get answers nil until Update.
func NewStore() *Store {
	s := &Store{}
	empty := map[string]*Set{}
	s.sets.Store(&empty)
	return s
}

// Update replaces the endpoint sets (keyed by table.ServiceTarget.Key()). A Set
// whose key persists keeps its identity (round-robin position, refused marks of
// endpoints that are still listed) and gets the new list; a key that is absent
// from sets is dropped, so a later Get for it answers nil. Requests holding a
// dropped Set finish on it unharmed.
func (s *Store) Update(sets table.EndpointSets) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := *s.sets.Load()
	next := make(map[string]*Set, len(sets))
	for key, eps := range sets {
		set := old[key]
		if set == nil {
			set = &Set{key: key}
		}
		set.setEndpoints(eps)
		next[key] = set
	}
	s.sets.Store(&next)
}

// Get returns the Set of a ServiceTarget.Key(), or nil when the key is unknown.
func (s *Store) Get(key string) *Set { return (*s.sets.Load())[key] }

// Keys returns the known keys in no particular order (for tests and debugging).
func (s *Store) Keys() []string {
	return slices.Collect(maps.Keys(*s.sets.Load()))
}

// Set is the ready endpoints of one Service port. It is safe for concurrent use.
type Set struct {
	key   string
	state atomic.Pointer[setState]
	next  atomic.Uint64
}

// setState is one immutable endpoint list; entries are shared between
// successive states so refused marks survive an Update.
type setState struct {
	list  []*entry
	index map[table.Endpoint]*entry
}

// entry is one endpoint and, when it recently refused a connection, until when
// it is skipped (unix nanoseconds; 0 = not marked).
type entry struct {
	ep           table.Endpoint
	hostPort     string // ep as a URL host ("ip:port", IPv6 bracketed), built once
	refusedUntil atomic.Int64
}

// Key is the ServiceTarget.Key() this Set serves.
func (s *Set) Key() string { return s.key }

// Len is the number of ready endpoints, marked or not.
func (s *Set) Len() int {
	if st := s.state.Load(); st != nil {
		return len(st.list)
	}
	return 0
}

func (s *Set) setEndpoints(eps []table.Endpoint) {
	prev := s.state.Load()
	st := &setState{list: make([]*entry, 0, len(eps)), index: make(map[table.Endpoint]*entry, len(eps))}
	for _, ep := range eps {
		if _, dup := st.index[ep]; dup {
			continue
		}
		e := (*entry)(nil)
		if prev != nil {
			e = prev.index[ep]
		}
		if e == nil {
			e = &entry{ep: ep, hostPort: HostPort(ep)}
		}
		st.list = append(st.list, e)
		st.index[ep] = e
	}
	s.state.Store(st)
}

// Next returns the next endpoint in round-robin order, skipping endpoints
// marked refused within RefusedBackoff. When every endpoint is marked it still
// returns one (round robin over all of them): a Service whose pods all
// restarted at once must be retried rather than declared dead. ok is false only
// when the set has no endpoint.
func (s *Set) Next() (ep table.Endpoint, ok bool) {
	e := s.next1()
	if e == nil {
		return table.Endpoint{}, false
	}
	return e.ep, true
}

// NextAddr is Next with the endpoint's URL host ("ip:port", IPv6 in
// brackets), formatted once per endpoint rather than once per request.
func (s *Set) NextAddr() (ep table.Endpoint, hostPort string, ok bool) {
	e := s.next1()
	if e == nil {
		return table.Endpoint{}, "", false
	}
	return e.ep, e.hostPort, true
}

// HostPort formats an endpoint as a URL host, bracketing IPv6 addresses.
func HostPort(ep table.Endpoint) string {
	return net.JoinHostPort(ep.Address, strconv.Itoa(int(ep.Port)))
}

func (s *Set) next1() *entry {
	st := s.state.Load()
	if st == nil || len(st.list) == 0 {
		return nil
	}
	n := uint64(len(st.list))
	start := (s.next.Add(1) - 1) % n
	var now int64
	for i := range n {
		e := st.list[(start+i)%n]
		until := e.refusedUntil.Load()
		if until == 0 {
			return e
		}
		if now == 0 {
			now = time.Now().UnixNano()
		}
		if until <= now {
			e.refusedUntil.CompareAndSwap(until, 0) // back on the fast path
			return e
		}
	}
	return st.list[start]
}

// MarkRefused makes Next skip ep for RefusedBackoff. An endpoint that is not
// (or no longer) in the set is ignored.
func (s *Set) MarkRefused(ep table.Endpoint) {
	st := s.state.Load()
	if st == nil {
		return
	}
	if e := st.index[ep]; e != nil {
		e.refusedUntil.Store(time.Now().Add(RefusedBackoff).UnixNano())
	}
}

// Each calls fn for every endpoint of the set, in order, with its URL host
// ("ip:port") and whether it refused a connection within RefusedBackoff.
// The list is the one in effect when Each starts; fn must not call Update.
func (s *Set) Each(fn func(hostPort string, refused bool)) {
	st := s.state.Load()
	if st == nil {
		return
	}
	var now int64
	for _, e := range st.list {
		refused := false
		if until := e.refusedUntil.Load(); until != 0 {
			if now == 0 {
				now = time.Now().UnixNano()
			}
			refused = until > now
		}
		fn(e.hostPort, refused)
	}
}

// MarkRefusedAddr is MarkRefused for an endpoint given as its URL host.
func (s *Set) MarkRefusedAddr(hostPort string) {
	st := s.state.Load()
	if st == nil {
		return
	}
	for _, e := range st.list {
		if e.hostPort == hostPort {
			e.refusedUntil.Store(time.Now().Add(RefusedBackoff).UnixNano())
			return
		}
	}
}
