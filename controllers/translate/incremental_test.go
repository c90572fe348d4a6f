package translate

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// sumOf fingerprints a whole object (metadata, spec, status) for tests.
func sumOf(t testing.TB, v any) [sha256.Size]byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// sumsOf computes the ObjectSums of s.
func sumsOf(t testing.TB, s *Snapshot) *ObjectSums {
	t.Helper()
	out := &ObjectSums{Shared: sumOf(t, []any{s.Services, s.EndpointSlices, s.Secrets})}
	for i := range s.Apis {
		out.Apis = append(out.Apis, sumOf(t, &s.Apis[i]))
	}
	for i := range s.Routes {
		out.Routes = append(out.Routes, sumOf(t, &s.Routes[i]))
	}
	for i := range s.Stages {
		out.Stages = append(out.Stages, sumOf(t, &s.Stages[i]))
	}
	for i := range s.Authorizers {
		out.Authorizers = append(out.Authorizers, sumOf(t, &s.Authorizers[i]))
	}
	for i := range s.UsagePlans {
		out.UsagePlans = append(out.UsagePlans, sumOf(t, &s.UsagePlans[i]))
	}
	return out
}

// dumpResult is the deterministic dump of a Result that the golden tests
// compare (the table as /table shows it, the statuses, NextChange), with
// whether Err was set.
func dumpResult(t testing.TB, res Result) string {
	t.Helper()
	out, err := yaml.Marshal(golden{Table: res.Table, Statuses: res.Statuses, NextChange: res.NextChange})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("err=%v\n%s", res.Err != nil, out)
}

// universe is every object an edit sequence may add, in a fixed order, and
// the edit sequence's state over it.
type universe struct {
	objs    []any // pointers to the five kinds, never changed
	current []any // the object's present version; nil when absent
	shared  *Snapshot
	// dropped says which Services and Secrets of shared are left out now.
	droppedServices, droppedSecrets map[int]bool
	apis                            []string // Api names in the universe, for edits that move objects
	stages                          []string // stage names in the universe
}

func newUniverse(s *Snapshot) *universe {
	u := &universe{
		shared:          &Snapshot{Services: s.Services, EndpointSlices: s.EndpointSlices, Secrets: s.Secrets},
		droppedServices: map[int]bool{}, droppedSecrets: map[int]bool{},
	}
	for i := range s.Apis {
		u.objs = append(u.objs, &s.Apis[i])
		u.apis = append(u.apis, s.Apis[i].Name)
	}
	for i := range s.Stages {
		u.objs = append(u.objs, &s.Stages[i])
		u.stages = append(u.stages, stageName(&s.Stages[i]))
	}
	for i := range s.Routes {
		u.objs = append(u.objs, &s.Routes[i])
	}
	for i := range s.Authorizers {
		u.objs = append(u.objs, &s.Authorizers[i])
	}
	for i := range s.UsagePlans {
		u.objs = append(u.objs, &s.UsagePlans[i])
	}
	u.objs = unique(u.objs)
	u.apis = append(u.apis, "no-such-api")
	u.stages = append(u.stages, "$default")
	u.current = make([]any, len(u.objs))
	return u
}

// unique drops objects whose kind, namespace and name came before: a
// snapshot holds one object per identity (the cluster and the standalone
// Loader guarantee it), and all golden cases at once reuse names.
func unique(objs []any) []any {
	seen := map[string]bool{}
	out := objs[:0]
	for _, o := range objs {
		m := o.(interface {
			GetNamespace() string
			GetName() string
		})
		id := fmt.Sprintf("%T/%s/%s", o, m.GetNamespace(), m.GetName())
		if !seen[id] {
			seen[id] = true
			out = append(out, o)
		}
	}
	return out
}

// snapshot is the state as a Snapshot, objects in universe order.
func (u *universe) snapshot() *Snapshot {
	s := &Snapshot{EndpointSlices: u.shared.EndpointSlices}
	for i := range u.shared.Services {
		if !u.droppedServices[i] {
			s.Services = append(s.Services, u.shared.Services[i])
		}
	}
	for i := range u.shared.Secrets {
		if !u.droppedSecrets[i] {
			s.Secrets = append(s.Secrets, u.shared.Secrets[i])
		}
	}
	for _, o := range u.current {
		switch o := o.(type) {
		case *v1alpha1.Api:
			s.Apis = append(s.Apis, *o)
		case *v1alpha1.Stage:
			s.Stages = append(s.Stages, *o)
		case *v1alpha1.Route:
			s.Routes = append(s.Routes, *o)
		case *v1alpha1.Authorizer:
			s.Authorizers = append(s.Authorizers, *o)
		case *v1alpha1.UsagePlan:
			s.UsagePlans = append(s.UsagePlans, *o)
		}
	}
	return s
}

// step makes one random edit: add an absent object, remove a present one,
// toggle a Service or Secret, or edit one (move it to another Api, rename
// its key or stage, take or give custom domains and plan stages, make it
// older or younger).
func (u *universe) step(r *rand.Rand) string {
	if n := len(u.shared.Services) + len(u.shared.Secrets); n > 0 && r.IntN(10) == 0 {
		if i := r.IntN(n); i < len(u.shared.Services) {
			u.droppedServices[i] = !u.droppedServices[i]
		} else {
			u.droppedSecrets[i-len(u.shared.Services)] = !u.droppedSecrets[i-len(u.shared.Services)]
		}
		return "toggle a Service or Secret"
	}
	i := r.IntN(len(u.objs))
	switch {
	case u.current[i] == nil:
		u.current[i] = u.objs[i]
		return "add"
	case r.IntN(4) == 0:
		u.current[i] = nil
		return "remove"
	}
	u.current[i] = u.edit(r, u.current[i])
	return "edit"
}

func (u *universe) edit(r *rand.Rand, obj any) any {
	api := u.apis[r.IntN(len(u.apis))]
	older := time.Duration(r.IntN(5)-2) * time.Hour
	switch o := obj.(type) {
	case *v1alpha1.Api:
		c := o.DeepCopy()
		c.Spec.DisableDefaultEndpoint = r.IntN(2) == 0
		c.CreationTimestamp.Time = c.CreationTimestamp.Add(older)
		return c
	case *v1alpha1.Stage:
		c := o.DeepCopy()
		switch r.IntN(4) {
		case 0:
			c.Spec.ApiName = api
		case 1:
			c.Spec.StageName = u.stages[r.IntN(len(u.stages))]
		case 2:
			c.Spec.Domains = u.someDomains(r)
		default:
			c.CreationTimestamp.Time = c.CreationTimestamp.Add(older)
		}
		return c
	case *v1alpha1.Route:
		c := o.DeepCopy()
		if r.IntN(2) == 0 {
			c.Spec.ApiName = api
		} else {
			c.Spec.RouteKey = fmt.Sprintf("GET /edited%d", r.IntN(3))
		}
		c.Generation++
		return c
	case *v1alpha1.Authorizer:
		c := o.DeepCopy()
		c.Spec.ApiName = api
		return c
	case *v1alpha1.UsagePlan:
		c := o.DeepCopy()
		c.Spec.ApiStages = append(c.Spec.ApiStages, v1alpha1.UsagePlanStage{ApiName: api, Stage: u.stages[r.IntN(len(u.stages))]})
		c.Spec.ApiStages = c.Spec.ApiStages[r.IntN(len(c.Spec.ApiStages)):]
		return c
	}
	panic(fmt.Sprintf("unexpected %T", obj))
}

// someDomains returns the domains of a random Stage of the universe (maybe
// none).
func (u *universe) someDomains(r *rand.Rand) []v1alpha1.Domain {
	for range 5 {
		if st, ok := u.objs[r.IntN(len(u.objs))].(*v1alpha1.Stage); ok && len(st.Spec.Domains) > 0 {
			return st.Spec.Domains
		}
	}
	return nil
}

// TestIncrementalEqualsFullTranslation is the property Incremental rests
// on: after every edit of a random sequence (objects added, removed, moved
// between Apis, renamed, given custom domains or plan stages, made older;
// Services and Secrets removed and restored; time advancing), the
// incremental result dumps exactly as the full
// translation of the same snapshot, and a result already returned never
// changes afterwards (parts are shared, never written). Universes are each
// golden case with its options, and all cases at once.
func TestIncrementalEqualsFullTranslation(t *testing.T) {
	all := &Snapshot{}
	type caseInput struct {
		name string
		s    *Snapshot
		o    Options
	}
	var cases []caseInput
	for _, in := range goldenInputs(t) {
		s, o := loadCaseWithOptions(t, in)
		cases = append(cases, caseInput{in, s, o})
		all = mergeSnapshots(all, s)
	}
	cases = append(cases, caseInput{"all cases at once", all, testOptions})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			seeds := uint64(4)
			if testing.Short() {
				seeds = 1
			}
			for seed := range seeds {
				runEdits(t, rand.New(rand.NewPCG(seed, 18)), newUniverse(c.s), c.o, 40)
			}
		})
	}
}

func mergeSnapshots(a, b *Snapshot) *Snapshot {
	return &Snapshot{
		Apis: append(a.Apis, b.Apis...), Routes: append(a.Routes, b.Routes...), Stages: append(a.Stages, b.Stages...),
		Authorizers: append(a.Authorizers, b.Authorizers...), UsagePlans: append(a.UsagePlans, b.UsagePlans...),
		Services: append(a.Services, b.Services...), EndpointSlices: append(a.EndpointSlices, b.EndpointSlices...),
		Secrets: append(a.Secrets, b.Secrets...),
	}
}

func runEdits(t *testing.T, r *rand.Rand, u *universe, o Options, steps int) {
	t.Helper()
	in := &Incremental{}
	var prev Result
	var prevDump string
	if len(u.objs) == 0 {
		return
	}
	for step := range steps {
		what := "time"
		if r.IntN(8) == 0 {
			o.Now = o.Now.Add([]time.Duration{0, time.Second, time.Minute, 3 * time.Minute, 10 * time.Minute, 30 * time.Hour}[r.IntN(6)])
		} else {
			what = u.step(r)
		}
		s := u.snapshot()
		want := dumpResult(t, Translate(s, o))
		res := in.Translate(s, sumsOf(t, s), o)
		if got := dumpResult(t, res); got != want {
			t.Fatalf("step %d (%s): incremental differs from full translation (-full +incremental):\n%s", step, what, cmp.Diff(want, got))
		}
		if prev.Table != nil && dumpResult(t, prev) != prevDump {
			t.Fatalf("step %d (%s): the previous result changed after the next translation", step, what)
		}
		prev, prevDump = res, want
	}
}

// BenchmarkOneRouteEdit measures retranslating after a one-Route edit at
// 10,000 and 100,000 Routes (10 and 100 Apis of 1,000 MOCK Routes, as bench
// scale loads them): full is Translate, incremental is Incremental with the
// edited Route's sum recomputed (a source keeps the others).
func BenchmarkOneRouteEdit(b *testing.B) {
	for _, apis := range []int{10, 100} {
		s := mockSnapshot(apis, 1000)
		sums := sumsOf(b, s)
		n := 0
		edit := func() { // a new key every time: never a memo hit
			n++
			r := &s.Routes[len(s.Routes)/2]
			r.Spec.RouteKey = fmt.Sprintf("GET /edited/%d", n)
			sums.Routes[len(s.Routes)/2] = sumOf(b, r)
		}
		b.Run(fmt.Sprintf("full/%dk", apis), func(b *testing.B) {
			for b.Loop() {
				edit()
				if res := Translate(s, Options{}); res.Err != nil {
					b.Fatal(res.Err)
				}
			}
		})
		b.Run(fmt.Sprintf("incremental/%dk", apis), func(b *testing.B) {
			in := &Incremental{}
			in.Translate(s, sums, Options{})
			for b.Loop() {
				edit()
				if res := in.Translate(s, sums, Options{}); res.Err != nil || in.Translated != 1 {
					b.Fatal(res.Err, in.Translated)
				}
			}
		})
	}
}

// mockSnapshot is apis Apis of routes MOCK Routes each, one $default Stage
// per Api.
func mockSnapshot(apis, routes int) *Snapshot {
	s := &Snapshot{Routes: make([]v1alpha1.Route, 0, apis*routes)}
	for a := range apis {
		api := fmt.Sprintf("api%03d", a)
		s.Apis = append(s.Apis, v1alpha1.Api{ObjectMeta: metav1.ObjectMeta{Name: api, Namespace: "ns"}})
		s.Stages = append(s.Stages, v1alpha1.Stage{
			ObjectMeta: metav1.ObjectMeta{Name: api, Namespace: "ns"},
			Spec:       v1alpha1.StageSpec{ApiName: api, StageName: "prod"},
		})
		for r := range routes {
			s.Routes = append(s.Routes, v1alpha1.Route{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-r%d", api, r), Namespace: "ns"},
				Spec: v1alpha1.RouteSpec{ApiName: api, RouteKey: fmt.Sprintf("GET /items%d/{id}", r), Integration: v1alpha1.Integration{
					Type: v1alpha1.IntegrationTypeMock, Mock: &v1alpha1.Mock{StatusCode: 200},
				}},
			})
		}
	}
	return s
}
