package standalone

import (
	"slices"
	"strings"
	"sync"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// StatusLog stands in for the status writer in standalone mode, where there
// is no API server to write status to: it prints each object's Ready
// condition, and only when an object's conditions changed since the previous
// call, so a reload caused by one file does not repeat every other object's
// status. The zero value is ready to use; it is not safe for concurrent use.
//
// A call costs one walk over the statuses and no copy of them: the pipeline
// hands statuses sorted by kind, namespace and name (translate's
// Result.Statuses), which are merged with the previous call's. An object
// whose Conditions slice is the very slice seen last time (same backing
// array and length) is unchanged without looking at it: translate.Incremental
// reuses the statuses of the parts it did not translate again, and the
// translator's results are never modified after they are returned. Input
// that is not sorted, or that holds a ref twice, takes a map instead.
type StatusLog struct {
	// last are the statuses of the previous call, sorted by ref without
	// duplicates: that call's slice itself when it was so, else a sorted
	// copy. Remembering the conditions seen rather than those printed is
	// the same: they differ only when they have the same state.
	last []translate.ObjectStatus
}

// LogStatuses prints the Ready condition of every object in statuses whose
// conditions (type, status, reason, message) changed since the last call,
// with reason and message when it is not True. Objects absent from statuses
// are forgotten, so one that comes back is printed again. Lines come in the
// order of statuses. StatusLog keeps statuses until the next call: the
// caller must not modify them (the pipeline's never are).
func (s *StatusLog) LogStatuses(log logr.Logger, statuses []translate.ObjectStatus) {
	changed, sorted := s.walk(statuses)
	if sorted {
		s.last = statuses
	} else {
		changed = s.walkUnsorted(statuses)
	}
	for _, i := range changed {
		logReady(log, statuses[i])
	}
}

// walk returns the indexes of the statuses to print, merging them with
// s.last, or false when statuses are not sorted strictly by ref. Order is
// checked as it goes; two statuses that match increasing positions of
// s.last are in order without comparing them.
func (s *StatusLog) walk(statuses []translate.ObjectStatus) ([]int, bool) {
	var changed []int
	j, prevMatch := 0, -1 // the first entry of s.last not passed; the match of statuses[k-1]
	for k := range statuses {
		st := &statuses[k]
		match := -1
		if j < len(s.last) && s.last[j].ObjectRef == st.ObjectRef {
			match = j // most objects: the next one of the last call
		} else {
			for j < len(s.last) && s.last[j].Compare(&st.ObjectRef) < 0 {
				j++ // gone since the last call: forgotten
			}
			if j < len(s.last) && s.last[j].ObjectRef == st.ObjectRef {
				match = j
			}
		}
		if k > 0 && (match < 0 || prevMatch < 0) && statuses[k-1].Compare(&st.ObjectRef) >= 0 {
			return nil, false
		}
		prevMatch = match
		if match < 0 {
			changed = append(changed, k)
			continue
		}
		j = match + 1
		if !sameConditions(s.last[match].Conditions, st.Conditions) {
			changed = append(changed, k)
		}
	}
	return changed, true
}

// walkUnsorted is walk for any input, with a map: each status is compared
// with the previous one of its ref in this call, else with the last call's.
// It leaves s.last sorted, with each ref's last status.
func (s *StatusLog) walkUnsorted(statuses []translate.ObjectStatus) []int {
	before := make(map[translate.ObjectRef][]metav1.Condition, len(s.last))
	for _, st := range s.last {
		before[st.ObjectRef] = st.Conditions
	}
	at := make(map[translate.ObjectRef]int, len(statuses)) // index into next
	next := make([]translate.ObjectStatus, 0, len(statuses))
	var changed []int
	for i, st := range statuses {
		prev, ok := before[st.ObjectRef]
		n, again := at[st.ObjectRef]
		if again {
			prev, ok = next[n].Conditions, true
		}
		if !ok || !sameConditions(prev, st.Conditions) {
			changed = append(changed, i)
		}
		if again {
			next[n] = st
			continue
		}
		at[st.ObjectRef] = len(next)
		next = append(next, st)
	}
	slices.SortFunc(next, func(a, b translate.ObjectStatus) int { return a.Compare(&b.ObjectRef) })
	s.last = next
	return changed
}

// sameConditions says whether conds has the state of prev: the same slice
// (same length and, when not empty, the same first element), else equal
// once reduced by conditionState.
func sameConditions(prev, conds []metav1.Condition) bool {
	if len(prev) == len(conds) && (len(prev) == 0 || &prev[0] == &conds[0]) {
		return true
	}
	return sameState(conditionState(prev), conds)
}

// logReady prints the object's Ready condition.
func logReady(log logr.Logger, st translate.ObjectStatus) {
	kv := []any{"kind", st.Kind, "namespace", st.Namespace, "name", st.Name, "generation", st.Generation}
	ready := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionReady)
	switch {
	case ready == nil:
		log.Info("object has no Ready condition", kv...)
	case ready.Status == metav1.ConditionTrue:
		log.Info("object is ready", append(kv, "ready", ready.Status)...)
	default:
		log.Info("object is not ready", append(kv, "ready", ready.Status, "reason", ready.Reason, "message", ready.Message)...)
	}
}

// conditionState returns conds sorted by type with the fields that do not
// describe the state (times, observedGeneration) cleared.
func conditionState(conds []metav1.Condition) []metav1.Condition {
	out := make([]metav1.Condition, 0, len(conds))
	for _, c := range conds {
		out = append(out, metav1.Condition{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message})
	}
	slices.SortFunc(out, func(a, b metav1.Condition) int { return strings.Compare(a.Type, b.Type) })
	return out
}

// sameState says whether conds equal state (a conditionState result) once
// reduced the same way, without copying conds: every condition matches a
// distinct one of state (a duplicate type only makes it answer false, and
// the object is logged again).
func sameState(state, conds []metav1.Condition) bool {
	if len(state) != len(conds) || len(conds) > 64 {
		return len(state) == len(conds) && slices.Equal(state, conditionState(conds))
	}
	var used uint64
	for _, c := range conds {
		i, found := slices.BinarySearchFunc(state, c.Type, func(x metav1.Condition, t string) int { return strings.Compare(x.Type, t) })
		if !found || used&(1<<i) != 0 || state[i].Status != c.Status || state[i].Reason != c.Reason || state[i].Message != c.Message {
			return false
		}
		used |= 1 << i
	}
	return true
}

// statusQueue is how many status sets StatusPrinter holds before Publish
// waits for its goroutine.
const statusQueue = 8

// StatusPrinter is the controllers.StatusSink of standalone mode: a
// StatusLog that prints on its own goroutine, so that Publish does not
// block on I/O as the sink contract asks. The first pass over a large
// configuration prints a line per object (100,000 lines take most of a
// second); the watcher meanwhile reloads and the pipeline swaps tables.
// Every published set is printed, in order, exactly as a StatusLog called
// from Publish would print it; only later. Publish waits when statusQueue
// sets are pending.
type StatusPrinter struct {
	log    logr.Logger
	status StatusLog
	queue  chan []translate.ObjectStatus
	done   chan struct{}
	mu     sync.Mutex // guards closed and sends on queue
	closed bool
}

// NewStatusPrinter starts a StatusPrinter printing to log; Close stops it.
func NewStatusPrinter(log logr.Logger) *StatusPrinter {
	p := &StatusPrinter{log: log, queue: make(chan []translate.ObjectStatus, statusQueue), done: make(chan struct{})}
	go p.print()
	return p
}

// Publish queues statuses for printing; safe for concurrent use. The
// statuses must not be modified afterwards (StatusLog keeps them). After
// Close it does nothing.
func (p *StatusPrinter) Publish(statuses []translate.ObjectStatus) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.queue <- statuses
	}
}

// Close prints what is queued and stops the goroutine.
func (p *StatusPrinter) Close() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.queue)
	}
	p.mu.Unlock()
	<-p.done
}

func (p *StatusPrinter) print() {
	defer close(p.done)
	for statuses := range p.queue {
		p.status.LogStatuses(p.log, statuses)
	}
}
