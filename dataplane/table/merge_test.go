package table

import (
	"encoding/json"
	"testing"
)

// partOf builds a one-Api table serving routes on host.
func partOf(t *testing.T, name, host string, keys ...string) *Table {
	t.Helper()
	routes := make([]*Route, len(keys))
	for i, k := range keys {
		routes[i] = mock(k)
	}
	tb, err := New([]*Api{{Namespace: "ns", Name: name, Hosts: []string{host}, Stages: []*Stage{{Name: "prod", Routes: routes}}}})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func dump(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMergeEqualsOneBuildAndLeavesPartsAlone: merging parts gives the table
// one build gives (dump and lookups), and the parts are not changed.
func TestMergeEqualsOneBuildAndLeavesPartsAlone(t *testing.T) {
	b, a := partOf(t, "b", "b.example", "GET /x"), partOf(t, "a", "a.example", "GET /y/{id}")
	before := dump(t, []*Table{b, a})
	got, err := Merge([]*Table{b, a})
	if err != nil {
		t.Fatal(err)
	}
	want, err := New(append(partOf(t, "a", "a.example", "GET /y/{id}").Apis, partOf(t, "b", "b.example", "GET /x").Apis...))
	if err != nil {
		t.Fatal(err)
	}
	if dump(t, got) != dump(t, want) {
		t.Errorf("Merge = %s, one build = %s", dump(t, got), dump(t, want))
	}
	if after := dump(t, []*Table{b, a}); after != before {
		t.Errorf("Merge changed its parts: %s, was %s", after, before)
	}
	if api := got.ApiForHost("a.example"); api == nil || api.Stage("prod").Lookup("GET", segs("/y/1")) == nil {
		t.Error("the merged table does not route a.example GET /y/1")
	}
	if got.ApiForHost("b.example") != b.Apis[0] {
		t.Error("the merged table does not share part b's Api")
	}
}

func TestMergeRejectsAHostOfTwoParts(t *testing.T) {
	if _, err := Merge([]*Table{partOf(t, "a", "h", "GET /x"), partOf(t, "b", "h", "GET /x")}); err == nil {
		t.Error("Merge accepted one host in two parts")
	}
}
