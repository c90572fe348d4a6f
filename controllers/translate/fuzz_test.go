package translate

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// TestConditionInvariants checks, over every golden case, what every status
// must satisfy whatever the input.
func TestConditionInvariants(t *testing.T) {
	for _, in := range goldenInputs(t) {
		for _, st := range Translate(loadCase(t, in), testOptions).Statuses {
			checkStatus(t, in, st)
		}
	}
}

func checkStatus(t *testing.T, where string, st ObjectStatus) {
	t.Helper()
	byType := map[string]metav1.Condition{}
	for _, c := range st.Conditions {
		byType[c.Type] = c
		if c.ObservedGeneration != st.Generation || c.Reason == "" || c.Message == "" {
			t.Errorf("%s %s/%s: condition %s lacks generation, reason or message: %+v", where, st.Kind, st.Name, c.Type, c)
		}
	}
	if len(byType) != 6 {
		t.Errorf("%s %s/%s: want the six conditions, got %d", where, st.Kind, st.Name, len(byType))
	}
	allTrue := byType[v1alpha1.ConditionAccepted].Status == metav1.ConditionTrue &&
		byType[v1alpha1.ConditionResolvedRefs].Status == metav1.ConditionTrue &&
		byType[v1alpha1.ConditionProgrammed].Status == metav1.ConditionTrue
	if ready := byType[v1alpha1.ConditionReady].Status == metav1.ConditionTrue; ready != allTrue {
		t.Errorf("%s %s/%s: Ready=%v but Accepted, ResolvedRefs and Programmed all True=%v", where, st.Kind, st.Name, ready, allTrue)
	}
	if byType[v1alpha1.ConditionReconciling].Status == metav1.ConditionTrue && byType[v1alpha1.ConditionStalled].Status == metav1.ConditionTrue {
		t.Errorf("%s %s/%s: Reconciling and Stalled both True", where, st.Kind, st.Name)
	}
}

// FuzzTranslate feeds random route keys, stage names, variables and
// integrations: Translate must not panic, must build a table that validates,
// and every status must keep the condition invariants.
func FuzzTranslate(f *testing.F) {
	f.Add("GET /pets/{id}", "GET /pets/{petId}", "prod", "b", "pets", "http://${stageVariables.b}/x", int32(80), uint8(0))
	f.Add("$default", "ANY /{proxy+}", "$default", "x", "${stageVariables.x}", "${stageVariables.x}", int32(8080), uint8(1))
	f.Add("$connect", "sendMessage", "dev", "", "", "", int32(0), uint8(2))
	f.Add("GET /a/{x+}/b", "GET /", "a.b", "k", "${stageVariables.", "HTTP://x", int32(-1), uint8(3))
	f.Add("POST /a//b", "DELETE /.", "", "y", "pets", "https://", int32(70000), uint8(4))
	f.Fuzz(func(t *testing.T, key1, key2, stage, varName, svc, uri string, port int32, mode uint8) {
		s := fuzzSnapshot(key1, key2, stage, varName, svc, uri, port, mode)
		res := Translate(s, Options{DefaultDomain: "Example.COM"})
		if res.Err != nil {
			t.Fatalf("table.New rejected the translator's table: %v", res.Err)
		}
		if res.Table == nil {
			t.Fatal("nil table")
		}
		for _, st := range res.Statuses {
			checkStatus(t, "fuzz", st)
		}
		EndpointSets(s)
	})
}

func fuzzSnapshot(key1, key2, stage, varName, svc, uri string, port int32, mode uint8) *Snapshot {
	protocols := []v1alpha1.Protocol{"", v1alpha1.ProtocolHTTP, v1alpha1.ProtocolREST, v1alpha1.ProtocolWebSocket, "BOGUS"}
	types := []v1alpha1.IntegrationType{"SERVICE", "HTTP_PROXY", "MOCK", "FUNCTION", "", "X"}
	meta := func(name string, sec int64) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: "ns", Generation: 1, CreationTimestamp: metav1.Unix(sec, 0)}
	}
	s := &Snapshot{
		Apis: []v1alpha1.Api{{ObjectMeta: meta("api", 0), Spec: v1alpha1.ApiSpec{Protocol: protocols[int(mode)%len(protocols)], MaxRequestBodyBytes: int64(port)}}},
		Stages: []v1alpha1.Stage{
			{ObjectMeta: meta("s1", 0), Spec: v1alpha1.StageSpec{ApiName: "api", StageName: stage, Variables: map[string]string{varName: svc}}},
			{ObjectMeta: meta("s2", 0), Spec: v1alpha1.StageSpec{ApiName: "api", StageName: varName, Variables: map[string]string{varName: uri}}},
		},
		Services: []corev1.Service{{ObjectMeta: meta(svc, 0), Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: stage, Port: port}}}}},
	}
	for i, key := range []string{key1, key2, key1, varName} {
		typ := types[(int(mode)+i)%len(types)]
		in := v1alpha1.Integration{Type: typ, TimeoutMillis: port, URI: uri, Mock: &v1alpha1.Mock{StatusCode: port}}
		if typ == "SERVICE" || typ == "FUNCTION" || i == 3 {
			in.Service = &v1alpha1.IntegrationService{Name: svc, Port: port}
		}
		s.Routes = append(s.Routes, v1alpha1.Route{
			ObjectMeta: meta(fmt.Sprintf("r%d", i), int64(i%2)),
			Spec:       v1alpha1.RouteSpec{ApiName: "api", RouteKey: key, Integration: in},
		})
	}
	return s
}
