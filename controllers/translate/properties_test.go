package translate

import (
	"bytes"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// deepCopy copies every object of s, so that a test can tell whether
// Translate changed its input.
func deepCopy(s *Snapshot) *Snapshot {
	c := &Snapshot{}
	for i := range s.Apis {
		c.Apis = append(c.Apis, *s.Apis[i].DeepCopy())
	}
	for i := range s.Routes {
		c.Routes = append(c.Routes, *s.Routes[i].DeepCopy())
	}
	for i := range s.Stages {
		c.Stages = append(c.Stages, *s.Stages[i].DeepCopy())
	}
	for i := range s.Authorizers {
		c.Authorizers = append(c.Authorizers, *s.Authorizers[i].DeepCopy())
	}
	for i := range s.UsagePlans {
		c.UsagePlans = append(c.UsagePlans, *s.UsagePlans[i].DeepCopy())
	}
	for i := range s.Services {
		c.Services = append(c.Services, *s.Services[i].DeepCopy())
	}
	for i := range s.EndpointSlices {
		c.EndpointSlices = append(c.EndpointSlices, *s.EndpointSlices[i].DeepCopy())
	}
	for i := range s.Secrets {
		c.Secrets = append(c.Secrets, *s.Secrets[i].DeepCopy())
	}
	return c
}

func shuffle[T any](r *rand.Rand, s []T) {
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
}

func marshalResult(t testing.TB, s *Snapshot) []byte {
	t.Helper()
	res := Translate(s, testOptions)
	out, err := yaml.Marshal(golden{Table: res.Table, Statuses: res.Statuses, EndpointSets: EndpointSets(s)})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func goldenInputs(t *testing.T) []string {
	t.Helper()
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	return inputs
}

// TestTranslateDoesNotMutateItsInput runs every golden case on a snapshot and
// compares it with a deep copy taken before.
func TestTranslateDoesNotMutateItsInput(t *testing.T) {
	for _, in := range goldenInputs(t) {
		s := loadCase(t, in)
		before := deepCopy(s)
		Translate(s, testOptions)
		EndpointSets(s)
		if !reflect.DeepEqual(before, s) {
			t.Errorf("%s: Translate changed its input", in)
		}
	}
}

// TestTranslateIsDeterministic runs every golden case twice and with shuffled
// slices: the output must be byte for byte the same.
func TestTranslateIsDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, in := range goldenInputs(t) {
		s := loadCase(t, in)
		want := marshalResult(t, s)
		for range 5 {
			c := deepCopy(s)
			shuffle(r, c.Apis)
			shuffle(r, c.Routes)
			shuffle(r, c.Stages)
			shuffle(r, c.Authorizers)
			shuffle(r, c.UsagePlans)
			shuffle(r, c.Services)
			shuffle(r, c.EndpointSlices)
			shuffle(r, c.Secrets)
			if got := marshalResult(t, c); !bytes.Equal(want, got) {
				t.Fatalf("%s: output depends on input order:\n%s", in, cmp.Diff(string(want), string(got)))
			}
		}
	}
}

// withoutObject marshals the table with the routes of object removed, and the
// statuses without object's own and without the Api route counts.
func withoutObject(t *testing.T, res Result, object string) (string, string) {
	t.Helper()
	for _, a := range res.Table.Apis {
		for _, st := range a.Stages {
			st.Routes = slices.DeleteFunc(st.Routes, func(r *table.Route) bool { return r.Object == object })
		}
	}
	var statuses []ObjectStatus
	for _, s := range res.Statuses {
		if s.Kind == KindRoute && s.Namespace+"/"+s.Name == object {
			continue
		}
		s.Routes = 0
		statuses = append(statuses, s)
	}
	tb, err := yaml.Marshal(res.Table)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := yaml.Marshal(statuses)
	if err != nil {
		t.Fatal(err)
	}
	return string(tb), string(sb)
}

// TestOneBadRouteAffectsOnlyItself adds one bad Route of each kind of badness
// to a good setup: everything else stays exactly as it was.
func TestOneBadRouteAffectsOnlyItself(t *testing.T) {
	base := loadCase(t, "testdata/two_stages_substitute_their_variables_into_uri_and_service_name.in.yaml")
	wantTable, wantStatuses := withoutObject(t, Translate(base, testOptions), "")
	bad := map[string]v1alpha1.RouteSpec{
		"invalid key":         {RouteKey: "GET /pets/{a}/{a}", Integration: v1alpha1.Integration{Type: "MOCK"}},
		"websocket key":       {RouteKey: "$connect", Integration: v1alpha1.Integration{Type: "MOCK"}},
		"missing service":     {RouteKey: "GET /x", Integration: v1alpha1.Integration{Type: "SERVICE", Service: &v1alpha1.IntegrationService{Name: "nope", Port: 80}}},
		"missing port":        {RouteKey: "GET /y", Integration: v1alpha1.Integration{Type: "SERVICE", Service: &v1alpha1.IntegrationService{Name: "pets-v2", Port: 81}}},
		"undefined variable":  {RouteKey: "GET /z", Integration: v1alpha1.Integration{Type: "HTTP_PROXY", URI: "http://${stageVariables.nope}/"}},
		"not implemented":     {RouteKey: "GET /w", ApiKeyRequired: true, Integration: v1alpha1.Integration{Type: "MOCK"}},
		"younger conflicting": {RouteKey: "GET /pets", Integration: v1alpha1.Integration{Type: "MOCK"}},
		"unknown api":         {RouteKey: "GET /v", Integration: v1alpha1.Integration{Type: "MOCK"}},
		"bad uri":             {RouteKey: "GET /u", Integration: v1alpha1.Integration{Type: "HTTP_PROXY", URI: "ftp://x"}},
		"bad integration":     {RouteKey: "GET /t", Integration: v1alpha1.Integration{Type: "CARRIER_PIGEON"}},
	}
	for name, spec := range bad {
		t.Run(strings.ReplaceAll(name, " ", "_"), func(t *testing.T) {
			s := deepCopy(base)
			if spec.ApiName == "" && name != "unknown api" {
				spec.ApiName = "pets"
			} else {
				spec.ApiName = "nope"
			}
			s.Routes = append(s.Routes, v1alpha1.Route{
				ObjectMeta: metav1.ObjectMeta{Name: "bad", Namespace: "shop", Generation: 1, CreationTimestamp: metav1.Unix(1<<40, 0)},
				Spec:       spec,
			})
			res := Translate(s, testOptions)
			if res.Err != nil {
				t.Fatalf("table rejected: %v", res.Err)
			}
			gotTable, gotStatuses := withoutObject(t, res, "shop/bad")
			if d := cmp.Diff(wantTable, gotTable); d != "" {
				t.Errorf("table changed beyond the bad route:\n%s", d)
			}
			if d := cmp.Diff(wantStatuses, gotStatuses); d != "" {
				t.Errorf("statuses changed beyond the bad route:\n%s", d)
			}
		})
	}
}
