package cluster

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/record"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// EventComponent is the source.component of the Events the gateway emits.
const EventComponent = "turnpike"

// rejectionEvents emits a Warning Event on an object when a status write
// makes it rejected: Stalled=True (invalid, conflict, NotImplemented, ...)
// or Accepted=False.
//
// Invariants:
//   - Only the status leader emits: events follow successful status writes,
//     which only the leader makes.
//   - Deduplicated by transition: an Event is emitted only when the stored
//     status did not already say the same rejection (condition type, reason
//     and message), so steady states, a new leader re-checking every object
//     and retried writes emit nothing new. client-go's correlator also folds
//     repeats of one Event into a count.
//   - A nil recorder (no clientset, as in unit tests) emits nothing.
type rejectionEvents struct {
	recorder record.EventRecorder
	shutdown func()
}

// newRejectionEvents records Events through kube (events in the object's
// namespace, core/v1) using scheme for object references.
func newRejectionEvents(kube kubernetes.Interface, scheme *runtime.Scheme) rejectionEvents {
	b := record.NewBroadcaster()
	b.StartRecordingToSink(&typedcorev1.EventSinkImpl{Interface: kube.CoreV1().Events("")})
	return rejectionEvents{
		recorder: b.NewRecorder(scheme, corev1.EventSource{Component: EventComponent}),
		shutdown: b.Shutdown,
	}
}

// conditionsBefore copies obj's stored conditions before a write changes them.
func conditionsBefore(obj client.Object) []metav1.Condition {
	if cs := commonStatus(obj); cs != nil {
		return slices.Clone(cs.Conditions)
	}
	return nil
}

// emit sends the Event for obj if its written conditions make it rejected
// in a way prev (the conditions before the write) did not say already.
func (e rejectionEvents) emit(obj client.Object, prev []metav1.Condition) {
	cs := commonStatus(obj)
	if e.recorder == nil || cs == nil {
		return
	}
	now := rejectedBy(cs.Conditions)
	if now == nil {
		return
	}
	if was := rejectedBy(prev); was != nil && was.Type == now.Type && was.Reason == now.Reason && was.Message == now.Message {
		return
	}
	e.recorder.Event(obj, corev1.EventTypeWarning, now.Reason, now.Message)
}

// rejectedBy is the condition that says conds reject their object: Stalled
// when True, else Accepted when False, else nil.
func rejectedBy(conds []metav1.Condition) *metav1.Condition {
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
		return c
	}
	if c := meta.FindStatusCondition(conds, v1alpha1.ConditionAccepted); c != nil && c.Status == metav1.ConditionFalse {
		return c
	}
	return nil
}

// commonStatus is the CommonStatus of one of the five kinds (nil otherwise).
func commonStatus(obj client.Object) *v1alpha1.CommonStatus {
	switch o := obj.(type) {
	case *v1alpha1.Api:
		return &o.Status.CommonStatus
	case *v1alpha1.Route:
		return &o.Status.CommonStatus
	case *v1alpha1.Stage:
		return &o.Status.CommonStatus
	case *v1alpha1.Authorizer:
		return &o.Status.CommonStatus
	case *v1alpha1.UsagePlan:
		return &o.Status.CommonStatus
	}
	return nil
}

// stop flushes and stops the event broadcaster (no-op without one).
func (e rejectionEvents) stop() {
	if e.shutdown != nil {
		e.shutdown()
	}
}
