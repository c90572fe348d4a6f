package dataplane

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// The header side of the chain (CORS here) runs once, at the final status,
// however the writer reaches it: an explicit status after a 1xx, an
// implicit 200 from the first Write, or a Flush; never at a 1xx.
func TestHeaderSideRunsOnceAtTheFinalStatus(t *testing.T) {
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
		flushed bool
	}{
		{"an informational answer does not fix the headers early", func(w http.ResponseWriter) {
			w.WriteHeader(http.StatusEarlyHints)
			w.Header().Set("Access-Control-Allow-Origin", "*") // the backend's, after the 103
			w.WriteHeader(http.StatusOK)
		}, false},
		{"an implicit 200 from the first Write", func(w http.ResponseWriter) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			_, _ = io.WriteString(w, "implicit")
		}, false},
		{"a Flush before any status", func(w http.ResponseWriter) {
			w.Header().Set("Access-Control-Allow-Origin", "*")
			w.(http.Flusher).Flush()
		}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fwd := &fakeForwarder{respond: func(w http.ResponseWriter, _ *http.Request, _ *Target) *Failure {
				tc.respond(w)
				return nil
			}}
			s := newTestServer(t, fwd, corsApi())
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, corsRequest("GET", "/prod/svc", appOrigin, false))
			if got := rec.Header().Values("Access-Control-Allow-Origin"); !slices.Equal(got, []string{appOrigin}) {
				t.Fatalf("Allow-Origin = %q, want the policy's only", got)
			}
			if rec.Flushed != tc.flushed {
				t.Fatalf("flushed %t, want %t", rec.Flushed, tc.flushed)
			}
		})
	}
}

// A gateway error gets the header side too; a preflight answer does not run
// it twice (the preflight writes its own CORS headers).
func TestHeaderSideCoversGatewayErrorsAndPreflights(t *testing.T) {
	s := newTestServer(t, &fakeForwarder{}, corsApi())
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, corsRequest("GET", "/prod/nowhere", appOrigin, false))
	if rec.Code != 404 || rec.Header().Get("Access-Control-Allow-Origin") != appOrigin {
		t.Fatalf("404 with Allow-Origin %q (status %d)", rec.Header().Get("Access-Control-Allow-Origin"), rec.Code)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, corsRequest("OPTIONS", "/prod/pets", appOrigin, true))
	if got := rec.Header().Values("Vary"); len(got) != 1 {
		t.Fatalf("preflight Vary %q: the header side must not add to the preflight's own answer", got)
	}
}
