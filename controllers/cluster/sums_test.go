package cluster

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// sumsWorld is a small cluster as the watches' stores hold it: every write
// bumps the object's resourceVersion (status writes included), a delete and
// re-create gives a new uid, and a relist hands out fresh copies with the
// same resourceVersions.
type sumsWorld struct {
	rv       int
	uid      int
	apis     []*v1alpha1.Api
	stages   []*v1alpha1.Stage
	routes   []*v1alpha1.Route
	services []*corev1.Service
	// hidden Routes and Services are deleted (kept to re-create them).
	hiddenRoute, hiddenService []bool
}

func (w *sumsWorld) stamp(m *metav1.ObjectMeta) {
	w.rv++
	m.ResourceVersion = strconv.Itoa(w.rv)
}

func (w *sumsWorld) create(m *metav1.ObjectMeta, name string, created time.Time) {
	w.uid++
	*m = metav1.ObjectMeta{Namespace: "ns", Name: name, UID: types.UID(fmt.Sprint("uid-", w.uid)), Generation: 1,
		CreationTimestamp: metav1.NewTime(created)}
	w.stamp(m)
}

func newSumsWorld(start time.Time) *sumsWorld {
	w := &sumsWorld{}
	for a := range 3 {
		api := fmt.Sprintf("api%d", a)
		w.apis = append(w.apis, &v1alpha1.Api{})
		w.create(&w.apis[a].ObjectMeta, api, start)
		st := &v1alpha1.Stage{Spec: v1alpha1.StageSpec{ApiName: api, StageName: "prod"}}
		w.create(&st.ObjectMeta, api+"-prod", start)
		w.stages = append(w.stages, st)
		svc := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
		w.create(&svc.ObjectMeta, "svc"+strconv.Itoa(a), start)
		w.services = append(w.services, svc)
		w.hiddenService = append(w.hiddenService, a == 2) // svc2 missing: its Routes wait
		for r := range 4 {
			rt := &v1alpha1.Route{Spec: v1alpha1.RouteSpec{ApiName: api, RouteKey: fmt.Sprintf("GET /r%d", r),
				Integration: v1alpha1.Integration{Type: v1alpha1.IntegrationTypeService,
					Service: &v1alpha1.IntegrationService{Name: "svc" + strconv.Itoa((a+r)%3), Port: 80}}}}
			w.create(&rt.ObjectMeta, fmt.Sprintf("%s-r%d", api, r), start.Add(time.Duration(r)*time.Second))
			w.routes = append(w.routes, rt)
			w.hiddenRoute = append(w.hiddenRoute, false)
		}
	}
	return w
}

// snapshot is what the Source builds: shallow copies, sorted by name.
func (w *sumsWorld) snapshot() *translate.Snapshot {
	s := &translate.Snapshot{}
	for _, a := range w.apis {
		s.Apis = append(s.Apis, *a)
	}
	for _, st := range w.stages {
		s.Stages = append(s.Stages, *st)
	}
	for i, r := range w.routes {
		if !w.hiddenRoute[i] {
			s.Routes = append(s.Routes, *r)
		}
	}
	for i, svc := range w.services {
		if !w.hiddenService[i] {
			s.Services = append(s.Services, *svc)
		}
	}
	sortObjects(s.Routes)
	return s
}

// step changes the world at random and says how.
func (w *sumsWorld) step(r *rand.Rand, last []translate.ObjectStatus, now time.Time) string {
	switch r.IntN(8) {
	case 0:
		rt := w.routes[r.IntN(len(w.routes))].DeepCopy()
		rt.Spec.RouteKey = fmt.Sprintf("GET /e%d", r.IntN(3))
		rt.Generation++
		w.stamp(&rt.ObjectMeta)
		w.replaceRoute(rt)
		return "Route edited"
	case 1:
		rt := w.routes[r.IntN(len(w.routes))].DeepCopy()
		rt.Spec.ApiName = w.apis[r.IntN(len(w.apis))].Name
		rt.Generation++
		w.stamp(&rt.ObjectMeta)
		w.replaceRoute(rt)
		return "Route moved to another Api"
	case 2:
		i := r.IntN(len(w.routes))
		w.hiddenRoute[i] = !w.hiddenRoute[i]
		if !w.hiddenRoute[i] { // re-created: new uid, new creation time
			rt := w.routes[i].DeepCopy()
			created := rt.CreationTimestamp.Add(time.Duration(r.IntN(5)-2) * time.Hour)
			w.create(&rt.ObjectMeta, rt.Name, created)
			w.routes[i] = rt
		}
		return "Route deleted or re-created"
	case 3:
		i := r.IntN(len(w.services))
		w.hiddenService[i] = !w.hiddenService[i]
		return "Service deleted or re-created"
	case 4:
		w.writeStatuses(last, now)
		return "statuses written back"
	case 5:
		return "relist" // same objects, fresh copies: nothing to rehash
	case 6:
		// Another writer (an old leader, a user) resets a status: a Route
		// that had given up waiting (Stalled) starts waiting again.
		i := r.IntN(len(w.routes))
		c := w.routes[i].DeepCopy()
		c.Status = v1alpha1.RouteStatus{}
		w.stamp(&c.ObjectMeta)
		w.routes[i] = c
		return "a Route's status reset"
	}
	return "nothing"
}

// storedConditions are the conditions stored for st's object.
func (w *sumsWorld) storedConditions(st translate.ObjectStatus) []metav1.Condition {
	for _, rt := range w.routes {
		if st.Kind == translate.KindRoute && rt.Name == st.Name {
			return rt.Status.Conditions
		}
	}
	for _, s := range w.stages {
		if st.Kind == translate.KindStage && s.Name == st.Name {
			return s.Status.Conditions
		}
	}
	return nil
}

// datedConditions gives each condition of next the stored transition time
// when its status did not change, else now (meta.SetStatusCondition's rule,
// which the status writer follows).
func datedConditions(next, stored []metav1.Condition, now time.Time) []metav1.Condition {
	out := slices.Clone(next)
	for i := range out {
		if old := meta.FindStatusCondition(stored, out[i].Type); old != nil && old.Status == out[i].Status {
			out[i].LastTransitionTime = old.LastTransitionTime
		} else {
			out[i].LastTransitionTime = metav1.NewTime(now)
		}
	}
	return out
}

func (w *sumsWorld) replaceRoute(rt *v1alpha1.Route) {
	for i := range w.routes {
		if w.routes[i].Name == rt.Name {
			w.routes[i] = rt
		}
	}
}

// writeStatuses does what the status writer does: every object's computed
// conditions stored, a condition that changed dated now (kept otherwise),
// each write a new resourceVersion.
func (w *sumsWorld) writeStatuses(statuses []translate.ObjectStatus, now time.Time) {
	for _, st := range statuses {
		st.Conditions = datedConditions(st.Conditions, w.storedConditions(st), now)
		switch st.Kind {
		case translate.KindRoute:
			for i, rt := range w.routes {
				if rt.Name == st.Name {
					c := rt.DeepCopy()
					c.Status.Conditions, c.Status.ObservedGeneration = st.Conditions, st.Generation
					w.stamp(&c.ObjectMeta)
					w.routes[i] = c
				}
			}
		case translate.KindStage:
			for i, s := range w.stages {
				if s.Name == st.Name {
					c := s.DeepCopy()
					c.Status.Conditions, c.Status.ObservedGeneration = st.Conditions, st.Generation
					w.stamp(&c.ObjectMeta)
					w.stages[i] = c
				}
			}
		}
	}
}

func dumpTranslation(t *testing.T, res translate.Result) string {
	t.Helper()
	out, err := yaml.Marshal(struct {
		Table      any
		Statuses   []translate.ObjectStatus
		NextChange time.Time
	}{res.Table, res.Statuses, res.NextChange})
	require.NoError(t, err)
	return fmt.Sprintf("err=%v\n%s", res.Err != nil, out)
}

// TestSumsGiveTheFullTranslationAndTheSameFingerprint is what serve mode's
// incremental translation rests on: over random sequences of edits, moves,
// deletes and re-creates, Services coming and going, statuses written back
// (which grace periods read) and time passing beyond the grace period,
//   - the incremental translation over Sums.Of equals the full translation
//     of the same snapshot (tables, statuses, NextChange);
//   - Sums.Fingerprint changes exactly when controllers.Fingerprint does (so
//     status writes still cause no translation);
//   - a cached hash is never stale: every sum equals a fresh hash.
func TestSumsGiveTheFullTranslationAndTheSameFingerprint(t *testing.T) {
	start := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	for seed := range uint64(6) {
		r := rand.New(rand.NewPCG(seed, 18))
		w := newSumsWorld(start)
		sums := NewSums()
		incremental := controllers.IncrementalTranslate(sums.Of)
		o := translate.Options{DefaultDomain: "example.test", GracePeriod: 4 * time.Minute, Now: start}
		var last []translate.ObjectStatus
		var prevFull, prevOurs [32]byte
		for step := range 60 {
			what := "time"
			if r.IntN(5) == 0 {
				o.Now = o.Now.Add([]time.Duration{time.Second, time.Minute, 3 * time.Minute, 5 * time.Minute}[r.IntN(4)])
			} else {
				what = w.step(r, last, o.Now)
			}
			snap := w.snapshot()
			require.NoError(t, sums.record(snap))
			full := translate.Translate(snap, o)
			got := incremental(snap, o)
			if want, have := dumpTranslation(t, full), dumpTranslation(t, got); want != have {
				t.Fatalf("seed %d step %d (%s): incremental differs from full (-full +incremental):\n%s", seed, step, what, cmp.Diff(want, have))
			}
			last = full.Statuses

			fpFull, err := controllers.Fingerprint(snap)
			require.NoError(t, err)
			fpOurs, err := sums.Fingerprint(snap)
			require.NoError(t, err)
			if step > 0 {
				require.Equal(t, fpFull == prevFull, fpOurs == prevOurs, "seed %d step %d (%s): fingerprints disagree on whether the snapshot changed", seed, step, what)
			}
			prevFull, prevOurs = fpFull, fpOurs

			of := sums.Of(snap)
			for i := range snap.Routes {
				_, fresh, err := hashObject(&snap.Routes[i])
				require.NoError(t, err)
				require.Equal(t, fresh, of.Routes[i], "seed %d step %d: Route %s's sum is stale", seed, step, snap.Routes[i].Name)
			}
		}
	}
}

// A status write changes an object's full sum only when it changes what the
// translation reads (a wait started or ended, translate.StoredWaitOf), and
// never the snapshot fingerprint (it must cause no translation); only
// objects with a new resourceVersion are hashed again; deleted objects are
// forgotten; another snapshot than the recorded one has no sums.
func TestSumsHashOnlyWhatChanged(t *testing.T) {
	w := newSumsWorld(time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC))
	sums := NewSums()
	s1 := w.snapshot()
	require.NoError(t, sums.record(s1))
	fp1, _ := sums.Fingerprint(s1)
	sums1 := *sums.Of(s1)
	routeKey := sumKey{reflect.TypeFor[*v1alpha1.Route](), "ns", "api0-r1"}
	entry := sums.entries[routeKey]
	require.NotNil(t, entry)

	writeStatus := func(conds ...metav1.Condition) *translate.Snapshot {
		rt := w.routes[0].DeepCopy()
		rt.Status.Conditions = conds
		w.stamp(&rt.ObjectMeta)
		w.routes[0] = rt
		s := w.snapshot()
		require.NoError(t, sums.record(s))
		fp, _ := sums.Fingerprint(s)
		require.Equal(t, fp1, fp, "a status write is not a change of the translation input")
		return s
	}
	s2 := writeStatus(metav1.Condition{Type: "Ready", Status: metav1.ConditionTrue, Reason: "Ready"},
		metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionFalse, Reason: "Ready"})
	require.Equal(t, sums1.Routes, sums.Of(s2).Routes, "Ready written: nothing the translation reads changed")
	require.Same(t, entry, sums.entries[routeKey], "an unchanged object is not hashed again")

	s3 := writeStatus(metav1.Condition{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue, Reason: "ServiceNotFound",
		ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(time.Date(2026, 12, 6, 8, 0, 1, 0, time.UTC))})
	require.NotEqual(t, sums1.Routes[0], sums.Of(s3).Routes[0], "a wait started: the Route's sum covers it")
	require.Equal(t, sums1.Routes[1:], sums.Of(s3).Routes[1:])

	require.Nil(t, sums.Of(s1), "only the recorded snapshot has sums")
	fpOld, err := sums.Fingerprint(s1)
	require.NoError(t, err)
	want, _ := controllers.Fingerprint(s1)
	require.Equal(t, want, fpOld, "another snapshot is fingerprinted in full")

	w.hiddenRoute[1] = true
	require.NoError(t, sums.record(w.snapshot()))
	require.NotContains(t, sums.entries, routeKey, "a deleted object is forgotten")
}
