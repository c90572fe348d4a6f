package table

import (
	"strings"
	"testing"
)

func mock(key string) *Route {
	return &Route{Key: key, Object: "ns/" + key, Integration: Integration{
		Type: IntegrationMock, Mock: &Mock{Status: 200, Body: key},
	}}
}

// stageOf builds and compiles a one-stage Api over routes with the given keys.
func stageOf(t testing.TB, keys ...string) *Stage {
	t.Helper()
	routes := make([]*Route, len(keys))
	for i, k := range keys {
		routes[i] = mock(k)
	}
	st := &Stage{Name: "prod", Routes: routes}
	if _, err := New([]*Api{{Namespace: "ns", Name: "api", Hosts: []string{"h"}, Stages: []*Stage{st}}}); err != nil {
		t.Fatalf("New: %v", err)
	}
	return st
}

// segs splits a request path as the dataplane does after its checks.
func segs(path string) []string {
	p := strings.Trim(path, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}
