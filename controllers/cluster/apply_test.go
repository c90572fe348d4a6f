package cluster

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

func desired(gen int64, conds ...metav1.Condition) translate.ObjectStatus {
	return translate.ObjectStatus{ObjectRef: translate.ObjectRef{Kind: "Route", Namespace: "shop", Name: "r"}, Generation: gen, Conditions: conds}
}

func cond(typ string, status metav1.ConditionStatus, reason string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason + "."}
}

func TestApplyStatusKeepsTheTransitionTimeOfAConditionWhoseStatusDidNotChange(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := &v1alpha1.Route{}
	r.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready", Message: "Ready.", LastTransitionTime: old, ObservedGeneration: 1}}
	r.Status.ObservedGeneration = 1

	require.True(t, applyStatus(r, desired(2, cond("Ready", metav1.ConditionTrue, "Ready"))), "observedGeneration moved")
	require.Equal(t, old, meta.FindStatusCondition(r.Status.Conditions, "Ready").LastTransitionTime)
	require.Equal(t, int64(2), r.Status.ObservedGeneration)
	require.Equal(t, int64(2), r.Status.Conditions[0].ObservedGeneration)

	require.False(t, applyStatus(r, desired(2, cond("Ready", metav1.ConditionTrue, "Ready"))), "nothing changed")

	require.True(t, applyStatus(r, desired(2, cond("Ready", metav1.ConditionFalse, "ServiceNotFound"))))
	require.NotEqual(t, old, meta.FindStatusCondition(r.Status.Conditions, "Ready").LastTransitionTime)
}

func TestApplyStatusRemovesConditionsTheTranslatorNoLongerProduces(t *testing.T) {
	r := &v1alpha1.Route{}
	require.True(t, applyStatus(r, desired(1, cond("Ready", metav1.ConditionFalse, "Invalid"), cond("Stalled", metav1.ConditionTrue, "Invalid"))))
	require.Len(t, r.Status.Conditions, 2)
	require.True(t, applyStatus(r, desired(1, cond("Ready", metav1.ConditionTrue, "Ready"))))
	require.Len(t, r.Status.Conditions, 1)
	require.Equal(t, "Ready", r.Status.Conditions[0].Type)
}

func TestApplyStatusSetsTheKindSpecificFields(t *testing.T) {
	api := &v1alpha1.Api{}
	st := desired(1)
	st.Kind, st.Endpoints, st.Routes, st.Stages = "Api", []string{"http://pets.shop.example.test/"}, 3, 2
	require.True(t, applyStatus(api, st))
	require.Equal(t, []string{"http://pets.shop.example.test/"}, api.Status.Endpoints)
	require.Equal(t, int32(3), api.Status.Routes)
	require.Equal(t, int32(2), api.Status.Stages)
	require.False(t, applyStatus(api, st))

	stage := &v1alpha1.Stage{}
	st = desired(1)
	st.Kind, st.InvokeURLs = "Stage", []string{"http://pets.shop.example.test/prod"}
	require.True(t, applyStatus(stage, st))
	require.Equal(t, st.InvokeURLs, stage.Status.InvokeURLs)

	plan := &v1alpha1.UsagePlan{}
	st = desired(1)
	st.Kind, st.ApiKeys = "UsagePlan", 4
	require.True(t, applyStatus(plan, st))
	require.Equal(t, int32(4), plan.Status.ApiKeys)
}

func TestPublishMarksOnlyObjectsWhoseDesiredStatusChanged(t *testing.T) {
	m, err := newStatusMetrics(nil)
	require.NoError(t, err)
	w := &StatusWriter{desired: map[translate.ObjectRef]translate.ObjectStatus{}, signal: make(chan struct{}, 1), metrics: m}
	a, b := desired(1, cond("Ready", metav1.ConditionTrue, "Ready")), desired(1)
	b.Name = "other"
	w.Publish([]translate.ObjectStatus{a, b})
	require.Equal(t, 2, w.queue.len())
	w.queue = statusQueue{}

	w.Publish([]translate.ObjectStatus{a, b})
	require.Zero(t, w.queue.len(), "an unchanged status is not written again")

	a.Conditions = []metav1.Condition{cond("Ready", metav1.ConditionFalse, "ServiceNotFound")}
	w.Publish([]translate.ObjectStatus{a})
	require.Equal(t, []translate.ObjectRef{a.ObjectRef}, w.queue.take(10))
	require.NotContains(t, w.desired, b.ObjectRef, "objects gone from the snapshot are forgotten")
}

// An edit's status goes ahead of a pass over many objects: the refs the
// latest Publish changed are taken first, older ones after; a ref queued
// twice is taken once; deleted objects leave the queue.
func TestTheLatestPublishIsWrittenBeforeTheBacklog(t *testing.T) {
	m, err := newStatusMetrics(nil)
	require.NoError(t, err)
	w := &StatusWriter{desired: map[translate.ObjectRef]translate.ObjectStatus{}, signal: make(chan struct{}, 1), metrics: m}
	var first []translate.ObjectStatus
	for i := range 1000 {
		st := desired(1, cond("Ready", metav1.ConditionTrue, "Ready"))
		st.Name = fmt.Sprintf("r%04d", i)
		first = append(first, st)
	}
	w.Publish(first) // the first pass: 1,000 objects to write
	chunk := w.queue.take(statusChunk)
	require.Len(t, chunk, statusChunk)

	edited := slices.Clone(first)
	edited[700].Generation = 2
	edited = slices.Delete(edited, 10, 11)
	w.Publish(edited)
	want := map[translate.ObjectRef]bool{first[700].ObjectRef: true}
	for _, st := range first {
		want[st.ObjectRef] = !slices.Contains(chunk, st.ObjectRef) || want[st.ObjectRef]
	}
	delete(want, first[10].ObjectRef)
	wantLen := 0
	for _, queued := range want {
		if queued {
			wantLen++
		}
	}
	require.Equal(t, wantLen, w.queue.len(), "the rest of the pass, less the deleted object, and the edit once")
	require.InDelta(t, float64(w.queue.len()), testutil.ToFloat64(m.pending), 0, "turnpike_status_pending_objects")
	next := w.queue.take(statusChunk)
	require.Equal(t, first[700].ObjectRef, next[0], "the edit is written first")
	require.NotContains(t, next[1:], first[700].ObjectRef)
	for w.queue.len() > 0 {
		require.NotContains(t, w.queue.take(statusChunk), first[10].ObjectRef, "a deleted object is not written")
	}
}

func TestNewObjectRejectsAnUnknownKind(t *testing.T) {
	_, err := newObject("Gateway")
	require.Error(t, err)
	for _, k := range []string{"Api", "Route", "Stage", "Authorizer", "UsagePlan"} {
		obj, err := newObject(k)
		require.NoError(t, err)
		require.NotNil(t, obj)
	}
}

func TestApplyStatusRestartsTheWaitOfReconcilingWhenTheGenerationChanges(t *testing.T) {
	old := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	r := &v1alpha1.Route{}
	r.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonWaiting,
		Message: "waiting", LastTransitionTime: old, ObservedGeneration: 1}}

	applyStatus(r, desired(1, cond(v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonWaiting)))
	require.Equal(t, old, meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionReconciling).LastTransitionTime,
		"the same generation keeps waiting since the same time")

	require.True(t, applyStatus(r, desired(2, cond(v1alpha1.ConditionReconciling, metav1.ConditionTrue, v1alpha1.ReasonWaiting))))
	since := meta.FindStatusCondition(r.Status.Conditions, v1alpha1.ConditionReconciling).LastTransitionTime
	require.True(t, since.After(old.Time), "an edit restarts the wait the grace period counts from")
	require.WithinDuration(t, time.Now(), since.Time, 5*time.Second)
}

// sameStatus agrees with reflect.DeepEqual, field by field.
func TestSameStatusAgreesWithDeepEqual(t *testing.T) {
	base := func() translate.ObjectStatus {
		return translate.ObjectStatus{ObjectRef: translate.ObjectRef{Kind: "Stage", Namespace: "ns", Name: "s"}, Generation: 2,
			Conditions: []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready", Message: "ok", ObservedGeneration: 2,
				LastTransitionTime: metav1.NewTime(time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC))}},
			Endpoints: []string{"e"}, Routes: 3, Stages: 1, InvokeURLs: []string{"u"}, StageName: "prod", ApiKeys: 4}
	}
	edits := map[string]func(*translate.ObjectStatus){
		"nothing":    func(*translate.ObjectStatus) {},
		"name":       func(s *translate.ObjectStatus) { s.Name = "t" },
		"kind":       func(s *translate.ObjectStatus) { s.Kind = "Api" },
		"generation": func(s *translate.ObjectStatus) { s.Generation++ },
		"routes":     func(s *translate.ObjectStatus) { s.Routes++ },
		"stages":     func(s *translate.ObjectStatus) { s.Stages++ },
		"stage name": func(s *translate.ObjectStatus) { s.StageName = "dev" },
		"api keys":   func(s *translate.ObjectStatus) { s.ApiKeys++ },
		"endpoints":  func(s *translate.ObjectStatus) { s.Endpoints = append(s.Endpoints, "f") },
		"no urls":    func(s *translate.ObjectStatus) { s.InvokeURLs = nil },
		"empty urls": func(s *translate.ObjectStatus) { s.InvokeURLs = []string{} },
		"reason":     func(s *translate.ObjectStatus) { s.Conditions[0].Reason = "X" },
		"message":    func(s *translate.ObjectStatus) { s.Conditions[0].Message = "X" },
		"status":     func(s *translate.ObjectStatus) { s.Conditions[0].Status = metav1.ConditionFalse },
		"observed":   func(s *translate.ObjectStatus) { s.Conditions[0].ObservedGeneration++ },
		"type":       func(s *translate.ObjectStatus) { s.Conditions[0].Type = "Accepted" },
		"time": func(s *translate.ObjectStatus) {
			s.Conditions[0].LastTransitionTime = metav1.NewTime(time.Unix(1, 0).UTC())
		},
		"more conds": func(s *translate.ObjectStatus) {
			s.Conditions = append(s.Conditions, metav1.Condition{Type: "Stalled"})
		},
		"no conds":    func(s *translate.ObjectStatus) { s.Conditions = nil },
		"empty conds": func(s *translate.ObjectStatus) { s.Conditions = []metav1.Condition{} },
	}
	for name, edit := range edits {
		a, b := base(), base()
		edit(&b)
		require.Equal(t, reflect.DeepEqual(a, b), sameStatus(&a, &b), name)
		require.Equal(t, reflect.DeepEqual(b, a), sameStatus(&b, &a), name)
	}
	a := base()
	b := a // shared conditions
	require.True(t, sameStatus(&a, &b))
}
