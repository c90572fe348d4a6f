package cluster

import (
	"slices"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// statusChunk is how many objects the status worker writes before it looks
// for fresher work again.
const statusChunk = 64

// statusQueue holds the objects whose stored status must be checked and
// written, in two tiers:
//   - fresh: what the latest Publish changed (an edit's own status);
//   - backlog: everything older: the rest of a large pass (the first
//     translation of 100,000 objects marks them all), a new leader's
//     recheck of every object, the dataplane counts of Apis, retries.
//
// take serves fresh first, so an edit's status is written within one chunk
// of its translation even while a pass over the whole cluster, paced by the
// API server's rate limits, is under way. A ref is in at most one tier. The
// zero value is ready to use; the StatusWriter's mutex guards it.
type statusQueue struct {
	fresh, backlog map[translate.ObjectRef]struct{}
}

// age moves every fresh ref to the backlog: a new Publish makes the
// previous one's marks old.
func (q *statusQueue) age() {
	if len(q.fresh) == 0 {
		return
	}
	if q.backlog == nil {
		q.backlog = make(map[translate.ObjectRef]struct{}, len(q.fresh))
	}
	for ref := range q.fresh {
		q.backlog[ref] = struct{}{}
	}
	q.fresh = nil // not clear: a map keeps its size, and iterating it costs that
}

// markFresh queues ref ahead of the backlog.
func (q *statusQueue) markFresh(ref translate.ObjectRef) {
	if q.fresh == nil {
		q.fresh = map[translate.ObjectRef]struct{}{}
	}
	delete(q.backlog, ref)
	q.fresh[ref] = struct{}{}
}

// markBacklog queues ref behind the fresh ones (a fresh ref stays fresh).
func (q *statusQueue) markBacklog(ref translate.ObjectRef) {
	if _, ok := q.fresh[ref]; ok {
		return
	}
	if q.backlog == nil {
		q.backlog = map[translate.ObjectRef]struct{}{}
	}
	q.backlog[ref] = struct{}{}
}

// len is the number of queued refs.
func (q *statusQueue) len() int { return len(q.fresh) + len(q.backlog) }

// keep drops the refs for which wanted is false.
func (q *statusQueue) keep(wanted func(translate.ObjectRef) bool) {
	for _, m := range []map[translate.ObjectRef]struct{}{q.fresh, q.backlog} {
		for ref := range m {
			if !wanted(ref) {
				delete(m, ref)
			}
		}
	}
}

// take removes and returns up to n refs, fresh ones first, sorted by kind,
// namespace and name within each tier (writes are easier to follow in logs
// and tests in that order).
func (q *statusQueue) take(n int) []translate.ObjectRef {
	out := takeFrom(q.fresh, n, nil)
	return takeFrom(q.backlog, n, out)
}

// takeFrom moves up to n-len(out) refs from m to out.
func takeFrom(m map[translate.ObjectRef]struct{}, n int, out []translate.ObjectRef) []translate.ObjectRef {
	start := len(out)
	for ref := range m {
		if len(out) == n {
			break
		}
		out = append(out, ref)
		delete(m, ref)
	}
	slices.SortFunc(out[start:], func(a, b translate.ObjectRef) int { return a.Compare(&b) })
	return out
}
