package standalone

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/controllers/translate"
)

// referenceStatusLog is the StatusLog before it walked sorted statuses: a
// map from ref to the conditions printed, compared field by field on every
// call. TestStatusLogPrintsWhatAMapOfLastStatesPrints holds StatusLog to it.
type referenceStatusLog struct {
	last map[translate.ObjectRef][]metav1.Condition
}

func (s *referenceStatusLog) LogStatuses(log logr.Logger, statuses []translate.ObjectStatus) {
	seen := map[translate.ObjectRef][]metav1.Condition{}
	for _, st := range statuses {
		prev, ok := seen[st.ObjectRef]
		if !ok {
			prev, ok = s.last[st.ObjectRef]
		}
		if ok && slices.Equal(prev, conditionState(st.Conditions)) {
			seen[st.ObjectRef] = prev
			continue
		}
		seen[st.ObjectRef] = conditionState(st.Conditions)
		logReady(log, st)
	}
	s.last = seen
}

func collectingLogger(lines *[]string) logr.Logger {
	return funcr.New(func(_, args string) { *lines = append(*lines, args) }, funcr.Options{})
}

// TestStatusLogPrintsWhatAMapOfLastStatesPrints runs random sequences of
// status sets through StatusLog and the reference: objects appear, vanish,
// change conditions, keep the very same Conditions slice (as
// translate.Incremental hands a reused part's statuses), or get an equal
// copy; some calls are unsorted or hold a ref twice. Both must print the same
// lines in the same order.
func TestStatusLogPrintsWhatAMapOfLastStatesPrints(t *testing.T) {
	for seed := range uint64(8) {
		rng := rand.New(rand.NewPCG(seed, 18))
		var got, want []string
		var s StatusLog
		var ref referenceStatusLog
		current := map[string][]metav1.Condition{} // by name: the slice handed last
		for step := range 60 {
			statuses := randomStatuses(rng, current)
			got, want = got[:0], want[:0]
			s.LogStatuses(collectingLogger(&got), statuses)
			ref.LogStatuses(collectingLogger(&want), statuses)
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d step %d: printed\n%q\nwant\n%q", seed, step, got, want)
			}
		}
	}
}

// randomStatuses picks a random set of up to 40 Routes and Stages, most
// keeping their conditions slice from the last call.
func randomStatuses(rng *rand.Rand, current map[string][]metav1.Condition) []translate.ObjectStatus {
	reasons := []string{"Ready", "RouteConflict", "ApiNotFound"}
	var out []translate.ObjectStatus
	for i := range 40 {
		if rng.IntN(5) == 0 {
			continue // absent this time
		}
		kind := []string{"Route", "Stage"}[i%2]
		name := fmt.Sprintf("o%02d", i)
		conds, ok := current[kind+name]
		switch r := rng.IntN(10); {
		case !ok || r == 0: // new conditions, maybe equal to the old ones
			reason := reasons[rng.IntN(len(reasons))]
			status := metav1.ConditionFalse
			if reason == "Ready" {
				status = metav1.ConditionTrue
			}
			conds = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"},
				{Type: "Ready", Status: status, Reason: reason}}
		case r == 1: // an equal copy in another order
			conds = []metav1.Condition{conds[1], conds[0]}
		}
		current[kind+name] = conds
		out = append(out, translate.ObjectStatus{ObjectRef: translate.ObjectRef{Kind: kind, Namespace: "ns", Name: name}, Conditions: conds})
	}
	slices.SortFunc(out, func(a, b translate.ObjectStatus) int { return a.Compare(&b.ObjectRef) })
	if len(out) > 1 && rng.IntN(4) == 0 { // a ref twice, with the same or other conditions
		dup := out[rng.IntN(len(out))]
		if rng.IntN(2) == 0 {
			dup.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionFalse, Reason: "Duplicate"}}
		}
		out = append(out, dup)
		slices.SortStableFunc(out, func(a, b translate.ObjectStatus) int { return a.Compare(&b.ObjectRef) })
	}
	if rng.IntN(6) == 0 {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	}
	return out
}

// TestStatusPrinterPrintsWhatAStatusLogPrints publishes random status sets
// to a StatusPrinter and to a StatusLog called in place: after Close the
// printer must have printed the same lines in the same order, and a
// Publish after Close does nothing.
func TestStatusPrinterPrintsWhatAStatusLogPrints(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 18))
	var got, want []string
	p := NewStatusPrinter(collectingLogger(&got))
	var s StatusLog
	current := map[string][]metav1.Condition{}
	for range 40 {
		statuses := randomStatuses(rng, current)
		p.Publish(statuses)
		s.LogStatuses(collectingLogger(&want), statuses)
	}
	p.Close()
	p.Publish(randomStatuses(rng, current))
	if !slices.Equal(got, want) || len(want) == 0 {
		t.Fatalf("the printer printed %d lines, a StatusLog %d (or none)", len(got), len(want))
	}
}
