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

// waitedTooLong reports whether an object of generation gen that waits
// because of w has waited for the grace period or longer.
//
// The translator has no clock and no memory, so the start of the wait is
// read from the object's stored status (the snapshot holds it):
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
	if st := meta.FindStatusCondition(stored, v1alpha1.ConditionStalled); st != nil &&
		st.Status == metav1.ConditionTrue && st.Reason == w.reason && st.ObservedGeneration == gen {
		return true
	}
	since := tr.now
	if rec := meta.FindStatusCondition(stored, v1alpha1.ConditionReconciling); rec != nil &&
		rec.Status == metav1.ConditionTrue && rec.ObservedGeneration == gen && !rec.LastTransitionTime.IsZero() {
		since = rec.LastTransitionTime.Time
	}
	deadline := since.Add(tr.grace)
	if !tr.now.Before(deadline) {
		return true
	}
	tr.noteChange(deadline)
	return false
}
