package table

import (
	"strings"
	"testing"
)

func api(name string, hosts []string, stages ...*Stage) *Api {
	return &Api{Namespace: "ns", Name: name, Protocol: ProtocolHTTP, Hosts: hosts, Stages: stages}
}

func TestNewRejects(t *testing.T) {
	badStatus := mock("GET /f")
	badStatus.Failure = &Failure{Status: 302, Message: "Found"}
	noService := &Route{Key: "GET /s", Integration: Integration{Type: IntegrationService, TimeoutMillis: 100}}
	badURI := &Route{Key: "GET /u", Integration: Integration{Type: IntegrationHTTPProxy, TimeoutMillis: 100, URI: "ftp://x"}}
	noTimeout := &Route{Key: "GET /t", Integration: Integration{Type: IntegrationHTTPProxy, URI: "http://x"}}
	noMock := &Route{Key: "GET /m", Integration: Integration{Type: IntegrationMock}}
	unknown := &Route{Key: "GET /k", Integration: Integration{Type: "LAMBDA", TimeoutMillis: 100}}
	tests := []struct {
		name string
		apis []*Api
		want string
	}{
		{"a host claimed by two Apis", []*Api{api("a", []string{"h"}), api("b", []string{"h"})}, `host "h" is claimed by Api ns/a and ns/b`},
		{"route keys differing only in variable names", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{mock("GET /x/{id}"), mock("GET /x/{other}")}})}, "conflict"},
		{"a stage that appears twice", []*Api{api("a", nil, &Stage{Name: "p"}, &Stage{Name: "p"})}, `stage "p" appears twice`},
		{"an unparsable route key", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{mock("GET /a//b")}})}, "empty segment"},
		{"a failure with a non-error status", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{badStatus}})}, "not an error status"},
		{"a SERVICE integration without a service", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{noService}})}, "without a service port"},
		{"an HTTP_PROXY uri that is not http(s)", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{badURI}})}, "not an absolute http(s) URL"},
		{"a proxied integration without a timeout", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{noTimeout}})}, "timeout must be positive"},
		{"a MOCK integration without a mock", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{noMock}})}, "MOCK integration without a valid status"},
		{"an unknown integration type", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{unknown}})}, "unknown integration type"},
		{"a FUNCTION integration without a service", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{{Key: "GET /f", Integration: Integration{Type: IntegrationFunction, TimeoutMillis: 100, PayloadFormatVersion: "2.0", Concurrency: 1}}}})}, "FUNCTION integration without a service port"},
		{"a FUNCTION integration with payload 3.0", []*Api{api("a", nil, &Stage{Name: "p", Routes: []*Route{{Key: "GET /f", Integration: Integration{Type: IntegrationFunction, TimeoutMillis: 100, Service: &ServiceTarget{Name: "f", Port: 1}, PayloadFormatVersion: "3.0", Concurrency: 1}}}})}, "payload format version"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tbl, err := New(tc.apis)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want an error containing %q", err, tc.want)
			}
			if tbl == nil {
				t.Fatal("New must return the table with its error")
			}
		})
	}
}

func TestNewSortsAndIndexes(t *testing.T) {
	b := api("b", []string{"b.example"}, &Stage{Name: "z", Routes: []*Route{mock("GET /y"), mock("GET /x")}}, &Stage{Name: "a"})
	a := api("a", []string{"a.example"})
	tbl, err := New([]*Api{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if tbl.Apis[0] != a || tbl.ApiForHost("b.example") != b || tbl.ApiForHost("c.example") != nil {
		t.Fatal("Apis not sorted or hosts not indexed")
	}
	if got := strings.Join(b.StageNames(), ","); got != "a,z" {
		t.Fatalf("StageNames %q", got)
	}
	if b.Stage("z").Routes[0].Key != "GET /x" || b.Stage("missing") != nil {
		t.Fatal("routes not sorted or stage lookup wrong")
	}
	if tbl.RouteCount() != 2 {
		t.Fatalf("RouteCount %d", tbl.RouteCount())
	}
	var none *Table
	if none.ApiForHost("a.example") != nil {
		t.Fatal("a nil table serves no host")
	}
}
