package cluster

import (
	"testing"
	"time"

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
	w := &StatusWriter{
		desired: map[translate.ObjectRef]translate.ObjectStatus{},
		dirty:   map[translate.ObjectRef]struct{}{},
		signal:  make(chan struct{}, 1),
	}
	a, b := desired(1, cond("Ready", metav1.ConditionTrue, "Ready")), desired(1)
	b.Name = "other"
	w.Publish([]translate.ObjectStatus{a, b})
	require.Len(t, w.dirty, 2)
	clear(w.dirty)

	w.Publish([]translate.ObjectStatus{a, b})
	require.Empty(t, w.dirty, "an unchanged status is not written again")

	a.Conditions = []metav1.Condition{cond("Ready", metav1.ConditionFalse, "ServiceNotFound")}
	w.Publish([]translate.ObjectStatus{a})
	require.Equal(t, map[translate.ObjectRef]struct{}{a.ObjectRef: {}}, w.dirty)
	require.NotContains(t, w.desired, b.ObjectRef, "objects gone from the snapshot are forgotten")
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
