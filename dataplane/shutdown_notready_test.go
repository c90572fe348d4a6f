package dataplane

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A gateway that never had a table was never in any Service's endpoints, so
// nothing can route to it: it exits at once instead of sitting out its
// shutdown delay (issue 19).
func TestAGatewayThatNeverBecameReadySkipsItsShutdownDelay(t *testing.T) {
	s := NewServer(Options{ShutdownDelay: time.Hour, DrainTimeout: time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, Listeners{HTTP: listen(t), Health: listen(t)}) }()
	time.Sleep(50 * time.Millisecond) // serving, never ready
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a never-ready gateway waited for its one-hour shutdown delay")
	}
}

func TestReadyzListsWarningsWithoutFailing(t *testing.T) {
	warnings := []string{"status is not written: the Lease namespace \"x\" does not exist"}
	s := NewServer(Options{Warnings: func() []string { return warnings }})
	s.Swap(mustTable(t))
	w := httptest.NewRecorder()
	s.HealthHandler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Code != 200 || !strings.HasPrefix(w.Body.String(), "ok\n") || !strings.Contains(w.Body.String(), "warning: "+warnings[0]+"\n") {
		t.Fatalf("readyz: %d %q", w.Code, w.Body.String())
	}
	warnings = nil
	w = httptest.NewRecorder()
	s.HealthHandler().ServeHTTP(w, httptest.NewRequest("GET", "/readyz", nil))
	if w.Body.String() != "ok\n" {
		t.Fatalf("readyz without warnings: %q", w.Body.String())
	}
}
