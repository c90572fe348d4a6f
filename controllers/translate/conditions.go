package translate

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// issue is one reason why a condition is False. Exactly one of waiting and
// stalled is usually set: waiting means the object waits for something that may
// still appear on its own (Reconciling=True), stalled that only the user can fix
// it (Stalled=True).
type issue struct {
	reason  string
	message string
	waiting bool
	stalled bool
	// hint is the one-sentence hint of the 500 a Route answers because of
	// this issue (Routes only).
	hint string
}

// verdict is everything the translator decided about one object; conditions
// derives the six conditions from it. A nil field means the matching condition
// is True.
type verdict struct {
	// accepted: the object is invalid on its own or lost a conflict.
	accepted *issue
	// resolved: a reference does not resolve.
	resolved *issue
	// programmed: the dataplane does not serve the object as configured.
	programmed *issue
	// partly, when the object is Programmed and Ready, says what does not
	// work (a Route that answers 500 in some of its stages); it becomes the
	// message of those two True conditions.
	partly string
	// okReason, when set, replaces the default reason of a True Programmed
	// and Ready (a UsagePlan that selects no key).
	okReason string
}

// mostTelling is the issue Ready reports: an invalid object first, then a
// feature that is not built yet (it stays broken whatever appears), then an
// unresolved reference, then anything else that keeps it from being served.
func (v verdict) mostTelling() *issue {
	if v.accepted != nil {
		return v.accepted
	}
	if v.programmed != nil && v.programmed.reason == v1alpha1.ReasonNotImplemented {
		return v.programmed
	}
	if v.resolved != nil {
		return v.resolved
	}
	return v.programmed
}

// firstWhere returns the first issue, in mostTelling order, that f selects.
func (v verdict) firstWhere(f func(*issue) bool) *issue {
	order := [3]*issue{v.accepted, v.programmed, v.resolved}
	if v.programmed != nil && v.programmed.reason != v1alpha1.ReasonNotImplemented {
		order = [3]*issue{v.accepted, v.resolved, v.programmed}
	}
	for _, i := range order {
		if i != nil && f(i) {
			return i
		}
	}
	return nil
}

// stalledIssue and waitingIssue are the issues Stalled and Reconciling report.
func (v verdict) stalledIssue() *issue { return v.firstWhere(func(i *issue) bool { return i.stalled }) }
func (v verdict) waitingIssue() *issue { return v.firstWhere(func(i *issue) bool { return i.waiting }) }

// okMessages are the messages of True conditions that name the kind.
type okMessages struct{ valid, programmed, ready string }

// kindMessages holds okMessages of the five kinds, built once (conditions
// runs for every object of every translation).
var kindMessages = func() map[string]okMessages {
	m := map[string]okMessages{}
	for _, k := range []string{KindApi, KindRoute, KindStage, KindAuthorizer, KindUsagePlan} {
		m[k] = newOKMessages(k)
	}
	return m
}()

func newOKMessages(kind string) okMessages {
	return okMessages{valid: "The " + kind + " is valid", programmed: "The gateway serves the " + kind + " as configured", ready: "The " + kind + " is ready"}
}

// okMessagesOf returns the okMessages of kind.
func okMessagesOf(kind string) okMessages {
	if m, ok := kindMessages[kind]; ok {
		return m
	}
	return newOKMessages(kind)
}

// conditions turns a verdict into the six conditions, in a fixed order.
// ObservedGeneration is the object's generation; LastTransitionTime stays zero
// (the status writer keeps the stored time when a status did not change).
// gaveUp is set when the object waited longer than the grace period
// (grace.go): Stalled then reports the waiting issue, and Reconciling is False.
func conditions(gen int64, kind string, v verdict, gaveUp bool) []metav1.Condition {
	cond := func(typ string, i *issue, okReason, okMessage string) metav1.Condition {
		c := metav1.Condition{Type: typ, ObservedGeneration: gen, Status: metav1.ConditionTrue, Reason: okReason, Message: okMessage}
		if i != nil {
			c.Status, c.Reason, c.Message = metav1.ConditionFalse, i.reason, i.message
		}
		return c
	}
	msgs := okMessagesOf(kind)
	programmedMsg, readyMsg := msgs.programmed, msgs.ready
	if v.partly != "" {
		programmedMsg, readyMsg = v.partly, v.partly
	}
	programmedReason, readyReason := v1alpha1.ReasonProgrammed, v1alpha1.ReasonReady
	if v.okReason != "" {
		programmedReason, readyReason = v.okReason, v.okReason
	}
	out := make([]metav1.Condition, 0, 6)
	out = append(out,
		cond(v1alpha1.ConditionAccepted, v.accepted, v1alpha1.ReasonAccepted, msgs.valid),
		cond(v1alpha1.ConditionResolvedRefs, v.resolved, v1alpha1.ReasonResolvedRefs, "Every reference resolves"),
		cond(v1alpha1.ConditionProgrammed, v.programmed, programmedReason, programmedMsg),
		cond(v1alpha1.ConditionReady, v.mostTelling(), readyReason, readyMsg),
	)
	stalled := v.stalledIssue()
	var waiting *issue
	if stalled == nil {
		// Reconciling and Stalled are never both True: kstatus readers treat
		// Stalled as final, so an object the user must fix is not "in progress".
		waiting = v.waitingIssue()
	}
	rec := metav1.Condition{Type: v1alpha1.ConditionReconciling, ObservedGeneration: gen, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonStable, Message: "Nothing to wait for"}
	if waiting != nil && gaveUp {
		stalled = waiting
		rec.Reason, rec.Message = v1alpha1.ReasonGracePeriodExpired, "Stopped waiting after the grace period; see Stalled"
	} else if waiting != nil {
		rec.Status, rec.Reason, rec.Message = metav1.ConditionTrue, v1alpha1.ReasonWaiting, waiting.message
	}
	st := metav1.Condition{Type: v1alpha1.ConditionStalled, ObservedGeneration: gen, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonStable, Message: "Nothing needs the user's attention"}
	if stalled != nil {
		st.Status, st.Reason, st.Message = metav1.ConditionTrue, stalled.reason, stalled.message
	}
	return append(out, rec, st)
}

// objectStatus is the ObjectStatus of one object with its conditions. stored
// are the conditions the object's status holds now (from the snapshot): they
// date the start of a wait for the grace period.
func (tr *translator) objectStatus(kind string, meta *metav1.ObjectMeta, stored []metav1.Condition, v verdict) ObjectStatus {
	return ObjectStatus{
		ObjectRef:  ObjectRef{Kind: kind, Namespace: meta.Namespace, Name: meta.Name},
		Generation: meta.Generation,
		Conditions: tr.conditions(kind, meta, stored, v),
	}
}

// conditions is conditions() with the grace period applied. The conditions
// of an object with nothing to report (the common case) are built once per
// kind and generation and shared between statuses (Result.Statuses is
// read-only).
func (tr *translator) conditions(kind string, meta *metav1.ObjectMeta, stored []metav1.Condition, v verdict) []metav1.Condition {
	if v == (verdict{}) {
		k := okConditionsKey{kind, meta.Generation}
		if c, ok := tr.okConditions[k]; ok {
			return c
		}
		c := conditions(meta.Generation, kind, v, false)
		if tr.okConditions == nil {
			tr.okConditions = map[okConditionsKey][]metav1.Condition{}
		}
		tr.okConditions[k] = c
		return c
	}
	gaveUp := false
	if v.stalledIssue() == nil {
		if w := v.waitingIssue(); w != nil {
			gaveUp = tr.waitedTooLong(meta.Generation, stored, w)
		}
	}
	return conditions(meta.Generation, kind, v, gaveUp)
}

// okConditionsKey identifies the shared conditions of objects with an empty
// verdict.
type okConditionsKey struct {
	kind       string
	generation int64
}

// noteChange records t as a time at which the translation's output changes
// without any input change; Result.NextChange is the earliest such time
// after Options.Now.
func (tr *translator) noteChange(t time.Time) {
	if tr.now.IsZero() || !t.After(tr.now) {
		return
	}
	if tr.next.IsZero() || t.Before(tr.next) {
		tr.next = t
	}
}
