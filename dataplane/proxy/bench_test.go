package proxy

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkForward measures a plain proxied GET through a loopback backend
// (no assertion on speed: budgets are measured by make bench).
func BenchmarkForward(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	defer backend.Close()
	ep := endpointOf(b, backend.Listener.Addr().String())
	f := New(Options{Store: storeWith(ep)})
	defer f.CloseIdleConnections()
	in := serviceIntegration(0)
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodGet, "http://gw/pets?x=1", nil)
		w := httptest.NewRecorder()
		if fail := f.Forward(w, req, &Target{Integration: in, Path: "/pets", RawQuery: "x=1"}); fail != nil || w.Code != http.StatusOK {
			b.Fatalf("fail %+v, code %d", fail, w.Code)
		}
	}
}
