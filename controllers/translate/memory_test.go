package translate

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// routeHeapBudget bounds the live heap per Route of what the translator
// keeps after a translation (the Result: table and statuses) at
// heapTestApis × 1,000 MOCK Routes. It guards the compact representation
// against regressions; docs/benchmarks.md ("Memory per Route") has the
// measured values and their breakdown.
const routeHeapBudget = 700

// heapTestApis is the size TestLiveHeapPerRoute measures in `make test`;
// TURNPIKE_HEAP_APIS=100 measures the 100,000 Routes of issue 18.
const heapTestApis = 10

// TestLiveHeapPerRoute measures the live heap per Route of a snapshot of
// Apis × 1,000 MOCK Routes (as `bin/bench scale` loads them), of its full
// translation (Result), and of an Incremental's memo and merged result,
// each after a forced GC, and fails when the Result costs more than
// routeHeapBudget bytes per Route. With TURNPIKE_HEAP_PROFILE=file it
// samples every allocation from the translation on and writes the heap
// profile there (`go tool pprof -top -sample_index=inuse_space file`).
func TestLiveHeapPerRoute(t *testing.T) {
	apis := heapTestApis
	if v := os.Getenv("TURNPIKE_HEAP_APIS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			t.Fatal(err)
		}
		apis = n
	}
	profile := os.Getenv("TURNPIKE_HEAP_PROFILE")
	s := scaleSnapshot(apis, 1000)
	routes := float64(len(s.Routes))
	sums := sumsOf(t, s)
	base := liveHeap()
	if profile != "" {
		runtime.MemProfileRate = 1
		defer func() { runtime.MemProfileRate = 512 * 1024 }()
	}
	res := Translate(s, Options{})
	full := liveHeap()
	in := &Incremental{}
	inc := in.Translate(s, sums, Options{})
	both := liveHeap()
	if profile != "" {
		writeHeapProfile(t, profile)
	}
	if res.Err != nil || inc.Err != nil {
		t.Fatal(res.Err, inc.Err)
	}
	perRoute := float64(full-base) / routes
	t.Logf("%d Routes: snapshot and sums %.0f B/Route; full Result %.0f B/Route; Incremental memo + merged Result %.0f B/Route",
		len(s.Routes), float64(base)/routes, perRoute, float64(both-full)/routes)
	runtime.KeepAlive(s)
	runtime.KeepAlive(res)
	runtime.KeepAlive(in)
	runtime.KeepAlive(inc)
	if perRoute > routeHeapBudget {
		t.Errorf("a translated Route keeps %.0f bytes live, over the budget of %d", perRoute, routeHeapBudget)
	}
}

// liveHeap is the heap in use after two forced collections (the second
// frees what the first's finalizers released).
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func writeHeapProfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		t.Fatal(err)
	}
}

// scaleSnapshot is what the standalone Loader hands the translator for the
// files `bin/bench scale` writes: apis Apis a{i} in namespace scale, each
// with its Stage prod and routes MOCK Routes GET /r{j}, with the uid,
// generation and creationTimestamp the Loader stamps.
func scaleSnapshot(apis, routes int) *Snapshot {
	created := metav1.NewTime(time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC))
	uid := 0
	meta := func(name string) metav1.ObjectMeta {
		uid++
		return metav1.ObjectMeta{Name: name, Namespace: "scale", Generation: 1, CreationTimestamp: created,
			UID: types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", uid))}
	}
	s := &Snapshot{Routes: make([]v1alpha1.Route, 0, apis*routes)}
	for a := range apis {
		api := fmt.Sprintf("a%d", a)
		s.Apis = append(s.Apis, v1alpha1.Api{ObjectMeta: meta(api), Spec: v1alpha1.ApiSpec{Protocol: v1alpha1.ProtocolHTTP}})
		s.Stages = append(s.Stages, v1alpha1.Stage{ObjectMeta: meta(api + "-prod"),
			Spec: v1alpha1.StageSpec{ApiName: api, StageName: "prod"}})
		for r := range routes {
			s.Routes = append(s.Routes, v1alpha1.Route{
				ObjectMeta: meta(fmt.Sprintf("%s-r%d", api, r)),
				Spec: v1alpha1.RouteSpec{ApiName: api, RouteKey: fmt.Sprintf("GET /r%d", r), Integration: v1alpha1.Integration{
					Type: v1alpha1.IntegrationTypeMock, Mock: &v1alpha1.Mock{StatusCode: 200, Body: "ok"},
				}},
			})
		}
	}
	return s
}
