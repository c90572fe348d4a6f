package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// A Route whose Service name is mistyped waits (Reconciling=True) for the
// grace period, then reports Stalled=True with the same reason and message,
// with no other change in the cluster, so GitOps tools fail fast; the
// Service appearing makes it Ready. The grace period is 5 minutes in the
// product; 4 seconds here.
func TestAReferenceThatNeverResolvesTurnsStalledAfterTheGracePeriod(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	startReplicaWith(t, ns, Options{}, translate.Options{DefaultDomain: "example.test", GracePeriod: 4 * time.Second})
	objs := petsObjects(ns)
	typo := serviceRoute(ns, "typo", "POST /adopt", "petz")
	createAll(t, append(objs, typo)...)
	waitReady(t, metav1.ConditionFalse, v1alpha1.ReasonServiceNotFound, typo)
	reconciling := condition(t, typo, v1alpha1.ConditionReconciling)
	require.Equal(t, metav1.ConditionTrue, reconciling.Status)
	require.Equal(t, metav1.ConditionFalse, condition(t, typo, v1alpha1.ConditionStalled).Status)

	require.Eventually(t, func() bool {
		return condition(t, typo, v1alpha1.ConditionStalled).Status == metav1.ConditionTrue
	}, 20*time.Second, 100*time.Millisecond, "Stalled once the grace period is over, without any edit")
	stalled := condition(t, typo, v1alpha1.ConditionStalled)
	require.Equal(t, v1alpha1.ReasonServiceNotFound, stalled.Reason)
	require.Equal(t, reconciling.Message, stalled.Message, "the same message")
	require.GreaterOrEqual(t, stalled.LastTransitionTime.Sub(reconciling.LastTransitionTime.Time), 3*time.Second,
		"not before the grace period (second-precision times)")
	rec := condition(t, typo, v1alpha1.ConditionReconciling)
	require.Equal(t, metav1.ConditionFalse, rec.Status)
	require.Equal(t, v1alpha1.ReasonGracePeriodExpired, rec.Reason)

	require.NoError(t, k8s.Create(context.Background(), &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "petz"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
	}))
	waitReady(t, metav1.ConditionTrue, v1alpha1.ReasonReady, typo)
	require.Equal(t, metav1.ConditionFalse, condition(t, typo, v1alpha1.ConditionStalled).Status)
}

// condition reads the stored condition typ of obj (never nil: a missing
// condition fails the test).
func condition(t *testing.T, obj client.Object, typ string) metav1.Condition {
	t.Helper()
	r := &v1alpha1.Route{}
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), r))
	c := meta.FindStatusCondition(r.Status.Conditions, typ)
	require.NotNil(t, c, "condition %s of %s", typ, obj.GetName())
	return *c
}
