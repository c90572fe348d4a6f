package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// petsObjects is the pets Api with stages prod and dev, two SERVICE routes and
// the Service they name.
func petsObjects(ns string) []client.Object {
	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	return []client.Object{
		&corev1.Service{ObjectMeta: meta("pets"), Spec: corev1.ServiceSpec{
			Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}},
		}},
		&v1alpha1.Api{ObjectMeta: meta("pets")},
		&v1alpha1.Stage{ObjectMeta: meta("prod"), Spec: v1alpha1.StageSpec{ApiName: "pets"}},
		&v1alpha1.Stage{ObjectMeta: meta("dev"), Spec: v1alpha1.StageSpec{ApiName: "pets"}},
		serviceRoute(ns, "list-pets", "GET /pets", "pets"),
		serviceRoute(ns, "get-pet", "GET /pets/{petId}", "pets"),
	}
}

func serviceRoute(ns, name, key, service string) *v1alpha1.Route {
	return &v1alpha1.Route{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.RouteSpec{ApiName: "pets", RouteKey: key, Integration: v1alpha1.Integration{
			Type: v1alpha1.IntegrationTypeService, Service: &v1alpha1.IntegrationService{Name: service, Port: 80},
		}},
	}
}

func createAll(t *testing.T, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		require.NoError(t, k8s.Create(context.Background(), o), "create %T %s", o, o.GetName())
	}
}

// readyCondition reads obj back and returns its Ready condition (nil if none)
// and its status.observedGeneration.
func readyCondition(t *testing.T, obj client.Object) (*metav1.Condition, int64) {
	t.Helper()
	fresh := obj.DeepCopyObject().(client.Object)
	require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(obj), fresh))
	var conds []metav1.Condition
	var observed int64
	switch o := fresh.(type) {
	case *v1alpha1.Api:
		conds, observed = o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.Stage:
		conds, observed = o.Status.Conditions, o.Status.ObservedGeneration
	case *v1alpha1.Route:
		conds, observed = o.Status.Conditions, o.Status.ObservedGeneration
	default:
		return nil, 0
	}
	return meta.FindStatusCondition(conds, v1alpha1.ConditionReady), observed
}

// waitReady waits until every turnpike object in objs has Ready with the given
// status and reason ("" for any) and observedGeneration equal to its generation.
func waitReady(t *testing.T, status metav1.ConditionStatus, reason string, objs ...client.Object) {
	t.Helper()
	for _, o := range objs {
		if _, ok := o.(*corev1.Service); ok {
			continue
		}
		require.Eventually(t, func() bool {
			c, observed := readyCondition(t, o)
			fresh := o.DeepCopyObject().(client.Object)
			require.NoError(t, k8s.Get(context.Background(), client.ObjectKeyFromObject(o), fresh))
			return c != nil && c.Status == status && (reason == "" || c.Reason == reason) &&
				observed == fresh.GetGeneration() && c.ObservedGeneration == fresh.GetGeneration()
		}, 20*time.Second, 100*time.Millisecond, "%T %s: Ready=%s %s", o, o.GetName(), status, reason)
	}
}
