package dataplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// TestSwapsUnderConcurrentRequestsNeverFailARequest swaps between two tables
// with different routers (a literal route answering "A", a greedy route
// answering "B") while clients send requests over keep-alive connections.
// Run with -race: a request must see exactly one whole table.
func TestSwapsUnderConcurrentRequestsNeverFailARequest(t *testing.T) {
	tableA := mustTable(t, testApi(table.ProtocolHTTP, stage("prod", mockRoute("GET /pets", 200, "A"))))
	tableB := mustTable(t, testApi(table.ProtocolHTTP, stage("prod", mockRoute("ANY /{proxy+}", 200, "B"))))
	s := NewServer(Options{})
	s.Swap(tableA)
	srv := httptest.NewServer(s)
	defer srv.Close()

	const clients, swaps = 4, 1000
	var stop atomic.Bool
	var ok, failed atomic.Int64
	var seen sync.Map
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				req, _ := http.NewRequest("GET", srv.URL+"/prod/pets", nil)
				req.Host = testHost
				res, err := srv.Client().Do(req)
				if err != nil {
					failed.Add(1)
					t.Errorf("request failed: %v", err)
					return
				}
				body, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil || res.StatusCode != 200 || (string(body) != "A" && string(body) != "B") {
					failed.Add(1)
					t.Errorf("got %d %q %v", res.StatusCode, body, err)
					return
				}
				seen.Store(string(body), true)
				ok.Add(1)
			}
		}()
	}
	for i := range swaps {
		if i%2 == 0 {
			s.Swap(tableB)
		} else {
			s.Swap(tableA)
		}
		// Wait for a request to finish after each swap, so requests and swaps
		// interleave even when the swaps alone would be over in microseconds.
		for n := ok.Load(); ok.Load() == n && failed.Load() == 0; {
			runtime.Gosched()
		}
		if failed.Load() != 0 {
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	if failed.Load() != 0 || ok.Load() == 0 {
		t.Fatalf("ok %d, failed %d", ok.Load(), failed.Load())
	}
	if _, a := seen.Load("A"); !a {
		t.Error("no request saw table A")
	}
	if _, b := seen.Load("B"); !b {
		t.Error("no request saw table B")
	}
	if s.Table() != tableA {
		t.Fatal("the last swap must win")
	}
	t.Logf("%d requests over %d swaps", ok.Load(), swaps)
}
