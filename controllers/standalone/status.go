package standalone

import (
	"maps"
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
type StatusLog struct {
	// last holds the conditions printed for each object, without times.
	last map[translate.ObjectRef]*loggedState
	// calls counts LogStatuses calls.
	calls uint64
}

// loggedState is what StatusLog printed for one object: the conditions
// (conditionState) and the call that last saw the object.
type loggedState struct {
	conds []metav1.Condition
	seen  uint64
}

// LogStatuses prints the Ready condition of every object in statuses whose
// conditions (type, status, reason, message) changed since the last call,
// with reason and message when it is not True. Objects absent from statuses
// are forgotten, so one that comes back is printed again.
func (s *StatusLog) LogStatuses(log logr.Logger, statuses []translate.ObjectStatus) {
	if s.last == nil {
		s.last = make(map[translate.ObjectRef]*loggedState, len(statuses))
	}
	s.calls++
	for _, st := range statuses {
		prev := s.last[st.ObjectRef]
		if prev != nil && sameState(prev.conds, st.Conditions) {
			prev.seen = s.calls // most objects: nothing changed, nothing copied
			continue
		}
		s.last[st.ObjectRef] = &loggedState{conds: conditionState(st.Conditions), seen: s.calls}
		logReady(log, st)
	}
	maps.DeleteFunc(s.last, func(_ translate.ObjectRef, l *loggedState) bool { return l.seen != s.calls })
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
