package translate

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// BenchmarkTranslate10kRoutes measures the budget "translating 10,000 routes
// takes under 200 ms": 10 Apis of 1,000 Routes each, two stages per Api with a
// stage variable in the Service name.
func BenchmarkTranslate10kRoutes(b *testing.B) {
	s := &Snapshot{}
	for a := range 10 {
		api := fmt.Sprintf("api%d", a)
		s.Apis = append(s.Apis, v1alpha1.Api{ObjectMeta: metav1.ObjectMeta{Name: api, Namespace: "ns"}})
		for _, st := range []string{"prod", "dev"} {
			s.Stages = append(s.Stages, v1alpha1.Stage{
				ObjectMeta: metav1.ObjectMeta{Name: api + "-" + st, Namespace: "ns"},
				Spec:       v1alpha1.StageSpec{ApiName: api, StageName: st, Variables: map[string]string{"svc": "svc-" + st}},
			})
		}
		for r := range 1000 {
			s.Routes = append(s.Routes, v1alpha1.Route{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-r%d", api, r), Namespace: "ns"},
				Spec: v1alpha1.RouteSpec{ApiName: api, RouteKey: fmt.Sprintf("GET /items%d/{id}", r), Integration: v1alpha1.Integration{
					Type: v1alpha1.IntegrationTypeService, Service: &v1alpha1.IntegrationService{Name: "${stageVariables.svc}", Port: 80},
				}},
			})
		}
	}
	for _, st := range []string{"prod", "dev"} {
		s.Services = append(s.Services, corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Name: "svc-" + st, Namespace: "ns"},
			Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}},
		})
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := Translate(s, Options{}); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}
