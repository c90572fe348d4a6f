package standalone

import (
	"cmp"
	"slices"
	"strings"

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
// A call costs a walk over the statuses, not a map lookup per object: the
// pipeline hands statuses sorted by kind, namespace and name (translate's
// Result.Statuses), so the previous call's states are merged with the new
// statuses in one pass. An object whose Conditions slice is the very slice
// seen last time (same backing array and length) is unchanged without
// looking at it: translate.Incremental reuses the statuses of the parts it
// did not translate again, and the translator's results are never modified
// after they are returned. Unsorted input is sorted (by index) first.
type StatusLog struct {
	// last are the states of the previous call, sorted by ref, one per
	// object; spare is the buffer the next call fills (they alternate, so a
	// call allocates only for objects whose conditions changed).
	last, spare []loggedState
}

// loggedState is what StatusLog printed for one object.
type loggedState struct {
	ref translate.ObjectRef
	// seen is the Conditions slice last handed in for the object; it is
	// only compared by identity (sameSlice), never read.
	seen []metav1.Condition
	// state is conditionState of the conditions printed.
	state []metav1.Condition
}

// LogStatuses prints the Ready condition of every object in statuses whose
// conditions (type, status, reason, message) changed since the last call,
// with reason and message when it is not True. Objects absent from statuses
// are forgotten, so one that comes back is printed again. Lines come in the
// order of statuses.
func (s *StatusLog) LogStatuses(log logr.Logger, statuses []translate.ObjectStatus) {
	order := sortedOrder(statuses)
	at := func(k int) *translate.ObjectStatus {
		if order == nil {
			return &statuses[k]
		}
		return &statuses[order[k]]
	}
	next := s.spare[:0]
	var changed []int // indexes into statuses
	j := 0            // the first state of s.last not yet passed
	for k := range statuses {
		st := at(k)
		for j < len(s.last) && compareRefs(&s.last[j].ref, &st.ObjectRef) < 0 {
			j++ // gone since the last call: forgotten
		}
		var prev *loggedState
		switch {
		case len(next) > 0 && next[len(next)-1].ref == st.ObjectRef:
			prev = &next[len(next)-1] // a duplicate ref: compare with its first occurrence
			next = next[:len(next)-1]
		case j < len(s.last) && s.last[j].ref == st.ObjectRef:
			prev = &s.last[j]
			j++
		}
		next = append(next, s.observe(prev, st, &changed, order, k))
	}
	clear(s.last) // drop references to the old slices
	s.last, s.spare = next, s.last
	slices.Sort(changed)
	for _, i := range changed {
		logReady(log, statuses[i])
	}
}

// observe returns the state of st given its previous state (nil: none) and
// records st's index in changed when it must be printed.
func (s *StatusLog) observe(prev *loggedState, st *translate.ObjectStatus, changed *[]int, order []int, k int) loggedState {
	if prev != nil && (sameSlice(prev.seen, st.Conditions) || sameState(prev.state, st.Conditions)) {
		return loggedState{ref: st.ObjectRef, seen: st.Conditions, state: prev.state}
	}
	i := k
	if order != nil {
		i = order[k]
	}
	*changed = append(*changed, i)
	return loggedState{ref: st.ObjectRef, seen: st.Conditions, state: conditionState(st.Conditions)}
}

// sortedOrder returns nil when statuses are sorted by ref (duplicates
// adjacent), else the indexes of statuses in a stable sorted order.
func sortedOrder(statuses []translate.ObjectStatus) []int {
	sorted := true
	for i := 1; i < len(statuses) && sorted; i++ {
		sorted = compareRefs(&statuses[i-1].ObjectRef, &statuses[i].ObjectRef) <= 0
	}
	if sorted {
		return nil
	}
	order := make([]int, len(statuses))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return compareRefs(&statuses[a].ObjectRef, &statuses[b].ObjectRef) })
	return order
}

// compareRefs orders refs as translate sorts statuses: kind, namespace, name.
func compareRefs(a, b *translate.ObjectRef) int {
	return cmp.Or(strings.Compare(a.Kind, b.Kind), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
}

// sameSlice says whether a and b are the same slice: same length and, when
// not empty, the same first element.
func sameSlice(a, b []metav1.Condition) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
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
