package proxy

import (
	"bufio"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
)

func TestServiceRoundRobinOverThreeEndpoints(t *testing.T) {
	a, b, c := newBackend(t, "a", nil), newBackend(t, "b", nil), newBackend(t, "c", nil)
	g := serviceGateway(t, storeWith(a.endpoint(t), b.endpoint(t), c.endpoint(t)), Options{}, 0)
	var got []string
	for range 6 {
		r := get(t, g.URL+"/pets")
		if r.status != http.StatusOK {
			t.Fatalf("status %d (%s)", r.status, r.cause)
		}
		got = append(got, r.seen.Backend)
	}
	if !slices.Equal(got[:3], got[3:]) || !slices.Equal(slices.Sorted(slices.Values(got[:3])), []string{"a", "b", "c"}) {
		t.Fatalf("backends %v are not a round robin over a, b, c", got)
	}
	if tg := g.lastTarget(); tg.UpstreamStatus != http.StatusOK || tg.IntegrationLatency <= 0 || tg.Cause != "" {
		t.Fatalf("target after success = %+v", tg)
	}
}

func TestServiceSkipsRefusingEndpointWithoutLosingTheBody(t *testing.T) {
	good := newBackend(t, "good", nil)
	closed := closedEndpoint(t)
	store := storeWith(closed, good.endpoint(t))
	g := serviceGateway(t, store, Options{}, 0)
	for i := range 4 {
		body := "payload-" + itoa(i)
		r := post(t, g.URL+"/pets", body)
		if r.status != http.StatusOK {
			t.Fatalf("request %d: status %d (%s)", i, r.status, r.cause)
		}
		if r.seen.Body != body || r.seen.Method != http.MethodPost {
			t.Fatalf("request %d: backend saw %s %q, want POST %q", i, r.seen.Method, r.seen.Body, body)
		}
	}
	set := store.Get(svc.Key())
	for range 2 {
		if ep, _ := set.Next(); ep == closed {
			t.Fatal("the refusing endpoint was not marked")
		}
	}
}

func TestServiceAllEndpointsRefusedIs502(t *testing.T) {
	g := serviceGateway(t, storeWith(closedEndpoint(t), closedEndpoint(t)), Options{}, 0)
	r := post(t, g.URL+"/pets", "body")
	if r.status != http.StatusBadGateway || r.body != "Internal server error" || r.cause != "connection refused" {
		t.Fatalf("got %d %q cause %q", r.status, r.body, r.cause)
	}
}

func TestServiceWithoutReadyEndpointIs503(t *testing.T) {
	cases := []struct {
		name  string
		store *upstream.Store
	}{
		{"an empty endpoint set", storeWith()},
		{"an unknown service key", upstream.NewStore()},
		{"no store at all", nil},
	}
	for _, c := range cases {
		t.Run(c.name+" answers 503", func(t *testing.T) {
			g := serviceGateway(t, c.store, Options{}, 0)
			r := get(t, g.URL+"/pets")
			if r.status != http.StatusServiceUnavailable || r.body != "Service Unavailable" {
				t.Fatalf("got %d %q", r.status, r.body)
			}
			if tg := g.lastTarget(); tg.Cause == "" {
				t.Fatal("no cause recorded")
			}
		})
	}
}

func TestServiceFailureHintNamesTheService(t *testing.T) {
	f := New(Options{Store: storeWith()})
	req, _ := http.NewRequest(http.MethodGet, "http://gw/pets", nil)
	fail := f.Forward(nil, req, &Target{Integration: serviceIntegration(0), Path: "/pets"})
	if fail == nil || !strings.Contains(fail.Hint, "shop/pets") {
		t.Fatalf("failure %+v does not name the Service", fail)
	}
}

func TestServiceFollowsEndpointUpdates(t *testing.T) {
	a, b := newBackend(t, "a", nil), newBackend(t, "b", nil)
	store := storeWith(a.endpoint(t))
	g := serviceGateway(t, store, Options{}, 0)
	if r := get(t, g.URL+"/"); r.seen.Backend != "a" {
		t.Fatalf("before update: backend %q", r.seen.Backend)
	}
	set := store.Get(svc.Key())
	store.Update(table.EndpointSets{svc.Key(): {b.endpoint(t)}})
	if store.Get(svc.Key()) != set {
		t.Fatal("update replaced the set")
	}
	if r := get(t, g.URL+"/"); r.seen.Backend != "b" {
		t.Fatalf("after update: backend %q", r.seen.Backend)
	}
}

func TestServiceTimeoutIs504(t *testing.T) {
	slow := newBackend(t, "slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	g := serviceGateway(t, storeWith(slow.endpoint(t)), Options{}, 100)
	start := time.Now()
	r := get(t, g.URL+"/slow")
	if r.status != http.StatusGatewayTimeout || r.body != "Endpoint request timed out" || r.cause != "timeout" {
		t.Fatalf("got %d %q cause %q", r.status, r.body, r.cause)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
}

func TestEgressDenied(t *testing.T) {
	good := newBackend(t, "good", nil)
	deny := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	t.Run("a SERVICE endpoint in a denied range is 502 egress denied", func(t *testing.T) {
		g := serviceGateway(t, storeWith(good.endpoint(t)), Options{DenyEgress: deny}, 0)
		r := get(t, g.URL+"/")
		if r.status != http.StatusBadGateway || r.cause != "egress denied" {
			t.Fatalf("got %d cause %q", r.status, r.cause)
		}
	})
	t.Run("a hostname resolving into a denied range is denied too", func(t *testing.T) {
		port := itoa(int(good.endpoint(t).Port))
		in := &table.Integration{Type: table.IntegrationHTTPProxy, URI: "http://localhost:" + port + "/x"}
		g := newGateway(t, Options{DenyEgress: upstream.DefaultDenyEgress(true)}, func(*http.Request) *Target {
			return &Target{Integration: in}
		})
		r := get(t, g.URL+"/")
		if r.status != http.StatusBadGateway || r.body != "Internal server error" || r.cause != "egress denied" {
			t.Fatalf("got %d %q cause %q", r.status, r.body, r.cause)
		}
	})
}

func TestServicePreservesOriginalEscaping(t *testing.T) {
	b := newBackend(t, "b", nil)
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	r := get(t, g.URL+"/a%20b/c%3Bd?q=1%202&x")
	if r.seen.RequestURI != "/a%20b/c%3Bd?q=1%202&x" {
		t.Fatalf("backend saw %q", r.seen.RequestURI)
	}
}

func TestBodyOverTheLimitIs413(t *testing.T) {
	b := newBackend(t, "b", nil)
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	r := post(t, g.URL+"/upload", strings.Repeat("x", 4*bodyLimit))
	if r.status != http.StatusRequestEntityTooLarge || r.body != "Request Entity Too Large" {
		t.Fatalf("got %d %q cause %q", r.status, r.body, r.cause)
	}
}

func TestConnectionsToTheBackendAreReused(t *testing.T) {
	b := newBackend(t, "b", nil)
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	for range 50 {
		if r := get(t, g.URL+"/"); r.status != http.StatusOK {
			t.Fatalf("status %d", r.status)
		}
	}
	if n := b.conns.Load(); n > 3 {
		t.Fatalf("backend accepted %d connections for 50 sequential requests", n)
	}
}

func TestStreamingResponsesAreFlushed(t *testing.T) {
	release := make(chan struct{})
	b := newBackend(t, "stream", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		_, _ = io.WriteString(w, "second\n")
	})
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	res, err := http.Get(g.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	br := bufio.NewReader(res.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		t.Fatalf("first line %q, %v: the proxy buffered the stream", line, err)
	}
	close(release)
	if line, _ := br.ReadString('\n'); line != "second\n" {
		t.Fatalf("second line %q", line)
	}
}

func TestBackendFailureAfterHeadersAbortsTheResponse(t *testing.T) {
	b := newBackend(t, "broken", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	// The abort shows either as a broken connection before the buffered
	// headers left the gateway or as a truncated body; never as a complete
	// response.
	if res, err := http.Get(g.URL + "/"); err == nil {
		_, err = io.ReadAll(res.Body)
		_ = res.Body.Close()
		if err == nil {
			t.Fatal("the client read a complete body from an aborted response")
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for g.lastTarget().Cause != "response aborted" {
		if time.Now().After(deadline) {
			t.Fatalf("target = %+v, want cause response aborted", g.lastTarget())
		}
		time.Sleep(10 * time.Millisecond)
	}
}
