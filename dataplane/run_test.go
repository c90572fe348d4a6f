package dataplane

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func listen(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// get returns the status, body and whether the server asked to close the connection.
func get(t *testing.T, url string) (int, string, bool) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Host = testHost
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Close
}

func TestReadinessFollowsTheFirstSwap(t *testing.T) {
	s := NewServer(Options{})
	h := s.HealthHandler()
	probe := func(path string) int {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		return w.Code
	}
	if probe("/readyz") != 503 || probe("/healthz") != 200 || s.Ready() {
		t.Fatal("before the first swap: want readyz 503, healthz 200")
	}
	s.Swap(nil)
	if probe("/readyz") != 503 {
		t.Fatal("a nil table must not make the server ready")
	}
	if w := do(s, "GET", "/prod/pets", nil); w.Code != 404 {
		t.Fatalf("requests before the first table: got %d", w.Code)
	}
	s.Swap(mustTable(t))
	if probe("/readyz") != 200 || !s.Ready() {
		t.Fatal("after the first swap: want readyz 200")
	}
}

func TestShutdownTurnsReadinessOffAndKeepsServingDuringTheDelay(t *testing.T) {
	s := NewServer(Options{ShutdownDelay: 400 * time.Millisecond, DrainTimeout: 2 * time.Second})
	s.Swap(mustTable(t, petsApi(table.ProtocolHTTP, false)))
	traffic, health := listen(t), listen(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, Listeners{HTTP: traffic, Health: health}) }()
	readyz := "http://" + health.Addr().String() + "/readyz"
	if code, _, _ := get(t, readyz); code != 200 {
		t.Fatalf("readyz before shutdown: %d", code)
	}
	cancel()
	deadline := time.Now().Add(time.Second)
	for s.Ready() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if code, _, _ := get(t, readyz); code != 503 {
		t.Fatalf("readyz during shutdown: %d", code)
	}
	code, body, closing := get(t, "http://"+traffic.Addr().String()+"/prod/pets")
	if code != 200 || body != "pets" || !closing {
		t.Fatalf("traffic during the shutdown delay: %d %q close=%v", code, body, closing)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return")
	}
	if _, err := net.DialTimeout("tcp", traffic.Addr().String(), time.Second); err == nil {
		t.Fatal("the traffic listener still accepts after Run returned")
	}
}

// slowServer runs a server whose SERVICE route blocks until release is
// closed; entered receives a value when the request reaches the backend.
func slowServer(t *testing.T, drain time.Duration) (s *Server, url string, entered, release chan struct{}, cancel func(), done chan error) {
	entered, release = make(chan struct{}, 1), make(chan struct{})
	fwd := &fakeForwarder{respond: func(w http.ResponseWriter, _ *http.Request, _ *Target) *Failure {
		entered <- struct{}{}
		<-release
		_, _ = io.WriteString(w, "finished")
		return nil
	}}
	s = NewServer(Options{Forwarder: fwd, DrainTimeout: drain})
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", serviceRoute("GET /slow")))))
	l := listen(t)
	ctx, c := context.WithCancel(context.Background())
	done = make(chan error, 1)
	go func() { done <- s.Run(ctx, Listeners{HTTP: l}) }()
	return s, "http://" + l.Addr().String() + "/prod/slow", entered, release, c, done
}

func TestShutdownDrainsAnInFlightRequest(t *testing.T) {
	_, url, entered, release, cancel, done := slowServer(t, 5*time.Second)
	type result struct {
		code int
		body string
	}
	got := make(chan result, 1)
	go func() {
		code, body, _ := get(t, url)
		got <- result{code, body}
	}()
	<-entered
	cancel()
	time.Sleep(100 * time.Millisecond) // Shutdown has begun and waits for the request
	select {
	case err := <-done:
		t.Fatalf("Run returned while a request was in flight: %v", err)
	default:
	}
	close(release)
	if r := <-got; r.code != 200 || r.body != "finished" {
		t.Fatalf("in-flight request: %d %q", r.code, r.body)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func TestShutdownGivesUpAfterTheDrainTimeout(t *testing.T) {
	_, url, entered, release, cancel, done := slowServer(t, 100*time.Millisecond)
	defer close(release)
	go func() {
		req, _ := http.NewRequest("GET", url, nil)
		req.Host = testHost
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}()
	<-entered
	cancel()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "drain") {
			t.Fatalf("want a drain error, got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not give up after the drain timeout")
	}
}
