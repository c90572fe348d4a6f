package translate

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// DefaultGracePeriod is how long an object may wait for a reference that may
// still appear (Reconciling=True: a Service, a Secret, an Api, a Stage)
// before the gateway gives up and reports Stalled=True with the same reason
// and message, so GitOps tools (Flux, Argo CD) fail fast instead of waiting
// for their own timeout. Options.GracePeriod overrides it.
const DefaultGracePeriod = 5 * time.Minute

// StoredWait is everything the translation reads of an object's stored
// conditions: whether it had given up waiting (Stalled=True, with the reason
// and generation), and since when it has waited (Reconciling=True, with the
// generation and transition time). Anything else in a stored status (Ready,
// messages, URLs) does not change the translation.
//
// A source that fingerprints objects for Incremental hashes StoredWaitOf the
// stored conditions with the spec instead of the whole status: the status
// writer's own writes then leave an object's sum alone unless they start or
// end a wait, so a first status pass over a large cluster does not make
// every Api translate again.
type StoredWait struct {
	Stalled               bool      `json:"stalled,omitempty"`
	StalledReason         string    `json:"stalledReason,omitempty"`
	StalledGeneration     int64     `json:"stalledGeneration,omitempty"`
	Reconciling           bool      `json:"reconciling,omitempty"`
	ReconcilingGeneration int64     `json:"reconcilingGeneration,omitempty"`
	ReconcilingSince      time.Time `json:"reconcilingSince,omitzero"`
}

// StoredWaitOf is the StoredWait of stored conditions (zero when nothing
// waits or gave up).
func StoredWaitOf(stored []metav1.Condition) StoredWait {
	var w StoredWait
	if st := meta.FindStatusCondition(stored, v1alpha1.ConditionStalled); st != nil && st.Status == metav1.ConditionTrue {
		w.Stalled, w.StalledReason, w.StalledGeneration = true, st.Reason, st.ObservedGeneration
	}
	if rec := meta.FindStatusCondition(stored, v1alpha1.ConditionReconciling); rec != nil &&
		rec.Status == metav1.ConditionTrue && !rec.LastTransitionTime.IsZero() {
		w.Reconciling, w.ReconcilingGeneration, w.ReconcilingSince = true, rec.ObservedGeneration, rec.LastTransitionTime.Time
	}
	return w
}

// waitedTooLong reports whether an object of generation gen that waits
// because of w has waited for the grace period or longer.
//
// The translator has no clock and no memory, so the start of the wait is
// read from the object's stored status (the snapshot holds it; StoredWaitOf
// is all it reads):
//   - a stored Stalled=True with w's reason for this generation means the
//     gateway gave up before and nothing changed since: it stays given up;
//   - a stored Reconciling=True for this generation started the wait at its
//     lastTransitionTime (the status writer restarts that time when the
//     generation changes, so an edit restarts the wait);
//   - otherwise the wait starts now (the status writer is about to record it).
//
// While the deadline is ahead it is noted as a time at which the output
// changes (Result.NextChange), so the pipeline translates again then.
// Without Options.Now nothing ever times out.
func (tr *translator) waitedTooLong(gen int64, stored []metav1.Condition, w *issue) bool {
	if tr.now.IsZero() || tr.grace < 0 {
		return false
	}
	sw := StoredWaitOf(stored)
	if sw.Stalled && sw.StalledReason == w.reason && sw.StalledGeneration == gen {
		return true
	}
	since := tr.now
	if sw.Reconciling && sw.ReconcilingGeneration == gen {
		since = sw.ReconcilingSince
	}
	deadline := since.Add(tr.grace)
	if !tr.now.Before(deadline) {
		return true
	}
	tr.noteChange(deadline)
	return false
}
