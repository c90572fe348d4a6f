package translate

import (
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// cacheKeys translates s and returns each cached route's cache key by
// "stage key".
func cacheKeys(t *testing.T, s *Snapshot) map[string]string {
	t.Helper()
	res := Translate(s, testOptions)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	keys := map[string]string{}
	for _, a := range res.Table.Apis {
		for _, st := range a.Stages {
			for _, r := range st.Routes {
				if r.Cache != nil {
					keys[st.Name+" "+r.Key] = r.Cache.Key
				}
			}
		}
	}
	return keys
}

func findRoute(s *Snapshot, name string) *v1alpha1.Route {
	for i := range s.Routes {
		if s.Routes[i].Name == name {
			return &s.Routes[i]
		}
	}
	return nil
}

// A route's cache key (the identity of its entries across table swaps)
// changes with what shapes its answers, and only with that: an unrelated
// edit keeps every entry, an edited route never serves its old answers.
func TestRouteCacheKeysChangeOnlyWithTheRoute(t *testing.T) {
	base := loadCase(t, "testdata/stage_and_route_caches_are_compiled.in.yaml")
	before := cacheKeys(t, base)
	if len(before) != 4 {
		t.Fatalf("cached routes: %v", before)
	}

	unrelated := deepCopy(base)
	findRoute(unrelated, "live").Spec.Integration.Mock = &v1alpha1.Mock{StatusCode: 201}
	unrelated.Stages[0].Annotations = map[string]string{v1alpha1.FlushCacheAnnotation: "later"}
	if after := cacheKeys(t, unrelated); !equalMaps(before, after) {
		t.Fatalf("an unrelated edit changed cache keys:\n%v\n%v", before, after)
	}

	for name, edit := range map[string]func(*Snapshot){
		"the integration": func(s *Snapshot) {
			findRoute(s, "list-pets").Spec.Integration.Mock = &v1alpha1.Mock{StatusCode: 200, Body: "new"}
		},
		"the ttl": func(s *Snapshot) {
			findRoute(s, "list-pets").Spec.Cache = &v1alpha1.RouteCache{Enabled: true, TTLSeconds: 5}
		},
		"a stage variable (mappings read them per request)": func(s *Snapshot) {
			for i := range s.Stages {
				if s.Stages[i].Name == "prod" {
					s.Stages[i].Spec.Variables = map[string]string{"v": "2"}
				}
			}
		},
		"a response mapping": func(s *Snapshot) {
			findRoute(s, "list-pets").Spec.Integration.ResponseParameters = map[string]v1alpha1.ResponseMapping{"200": {"append:header.x-v": "'2'"}}
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := deepCopy(base)
			edit(s)
			after := cacheKeys(t, s)
			if after["prod GET /pets"] == before["prod GET /pets"] {
				t.Fatalf("editing %s kept the cache key %s", name, after["prod GET /pets"])
			}
			if after["prod GET /pets/{petId}"] != before["prod GET /pets/{petId}"] && !strings.HasPrefix(name, "a stage variable") {
				t.Fatal("another route's key changed")
			}
		})
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// The flush annotation reaches the table, so the dataplane flushes when it
// changes; a stage cache that can hold nothing is off.
func TestStageCacheSettings(t *testing.T) {
	s := loadCase(t, "testdata/stage_and_route_caches_are_compiled.in.yaml")
	res := Translate(s, testOptions)
	var prod *table.Stage
	for _, st := range res.Table.Apis[0].Stages {
		if st.Name == "prod" {
			prod = st
		}
	}
	if prod == nil || prod.Cache == nil || prod.Cache.FlushToken != "2026-01-01T10:00" || prod.Cache.RequireAuthorization || prod.Cache.StatusHeader {
		t.Fatalf("prod cache %+v", prod.Cache)
	}
	off := true
	zero := &v1alpha1.Stage{Spec: v1alpha1.StageSpec{Cache: &v1alpha1.StageCache{Enabled: true, TTLSeconds: 300, StatusHeader: &off}}}
	if c := stageCache(zero); c != nil {
		t.Fatalf("maxBytes 0 caches nothing: %+v", c)
	}
	defaults := &v1alpha1.Stage{Spec: v1alpha1.StageSpec{Cache: &v1alpha1.StageCache{Enabled: true, TTLSeconds: 300, MaxBytes: 1}}}
	if c := stageCache(defaults); !c.RequireAuthorization || !c.StatusHeader || c.Unauthorized != table.CacheControlSucceedWithHeader {
		t.Fatalf("AWS's defaults: %+v", c)
	}
}
