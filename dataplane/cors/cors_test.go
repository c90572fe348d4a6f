package cors

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// policy compiles c the way the dataplane receives it (through table.New).
func policy(t testing.TB, c table.CORS) *table.CORS {
	t.Helper()
	if _, err := table.New([]*table.Api{{Namespace: "ns", Name: "api", CORS: &c}}); err != nil {
		t.Fatalf("table.New: %v", err)
	}
	return &c
}

var (
	listed = table.CORS{
		AllowOrigins:  []string{"https://app.example.com", "https://*.example.org"},
		AllowMethods:  []string{"GET", "PUT"},
		AllowHeaders:  []string{"x-custom", "content-type"},
		ExposeHeaders: []string{"x-request-id"},
		MaxAgeSeconds: 600,
	}
	withCreds = table.CORS{
		AllowOrigins:     []string{"https://app.example.com", "null"},
		AllowMethods:     []string{"*"},
		AllowHeaders:     []string{"*"},
		ExposeHeaders:    []string{"*"},
		AllowCredentials: true,
	}
	public = table.CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}}
)

// corsHeaders returns the response's Access-Control-* and Vary headers as
// "Name: value" lines, sorted, so a case states the whole answer.
func corsHeaders(h http.Header) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			out = append(out, k+": "+strings.Join(h[k], ", "))
		}
	}
	return out
}

const varyPreflight = "Vary: Origin, Access-Control-Request-Method, Access-Control-Request-Headers"

func TestPreflightAnswers(t *testing.T) {
	tests := []struct {
		name           string
		policy         table.CORS
		origin, method string
		requestHeaders string
		want           []string
	}{
		{"an allowed origin, method and header get the configured lists", listed, "https://app.example.com", "PUT", "x-custom",
			[]string{"Access-Control-Allow-Headers: x-custom, content-type", "Access-Control-Allow-Methods: GET, PUT",
				"Access-Control-Allow-Origin: https://app.example.com", "Access-Control-Max-Age: 600", varyPreflight}},
		{"a suffix-matched origin is echoed", listed, "https://a.example.org", "PUT", "",
			[]string{"Access-Control-Allow-Headers: x-custom, content-type", "Access-Control-Allow-Methods: GET, PUT",
				"Access-Control-Allow-Origin: https://a.example.org", "Access-Control-Max-Age: 600", varyPreflight}},
		{"an unlisted origin gets no Allow-Origin", listed, "https://attacker.test", "PUT", "", []string{varyPreflight}},
		{"a look-alike of a suffix gets no Allow-Origin", listed, "https://evil-example.org", "PUT", "", []string{varyPreflight}},
		{"a suffix followed by another domain gets no Allow-Origin", listed, "https://a.example.org.evil.io", "PUT", "", []string{varyPreflight}},
		{"a disallowed method gets no Allow-Origin", listed, "https://app.example.com", "DELETE", "", []string{varyPreflight}},
		{"a method differing in case is disallowed", listed, "https://app.example.com", "put", "", []string{varyPreflight}},
		{"a disallowed header gets no Allow-Origin", listed, "https://app.example.com", "PUT", "x-custom,x-secret", []string{varyPreflight}},
		{"a safelisted method is allowed even when unlisted", listed, "https://app.example.com", "POST", "content-type",
			[]string{"Access-Control-Allow-Headers: x-custom, content-type", "Access-Control-Allow-Methods: GET, PUT",
				"Access-Control-Allow-Origin: https://app.example.com", "Access-Control-Max-Age: 600", varyPreflight}},
		{"null is refused unless listed", listed, "null", "GET", "", []string{varyPreflight}},
		{"star without credentials answers literal stars and no Vary", public, "https://anyone.test", "PATCH", "x-anything",
			[]string{"Access-Control-Allow-Headers: *", "Access-Control-Allow-Methods: *", "Access-Control-Allow-Origin: *"}},
		{"star without credentials still names Authorization, which * never covers", public, "https://anyone.test", "GET", "authorization,x-a",
			[]string{"Access-Control-Allow-Headers: authorization,x-a", "Access-Control-Allow-Methods: *", "Access-Control-Allow-Origin: *"}},
		{"star refuses the null origin", public, "null", "GET", "", []string{varyPreflight}},
		{"with credentials star methods and headers echo the request", withCreds, "https://app.example.com", "PATCH", "x-custom,authorization",
			[]string{"Access-Control-Allow-Credentials: true", "Access-Control-Allow-Headers: x-custom,authorization",
				"Access-Control-Allow-Methods: PATCH", "Access-Control-Allow-Origin: https://app.example.com", varyPreflight}},
		{"with credentials and no requested headers no header list is sent", withCreds, "https://app.example.com", "GET", "",
			[]string{"Access-Control-Allow-Credentials: true", "Access-Control-Allow-Methods: GET",
				"Access-Control-Allow-Origin: https://app.example.com", varyPreflight}},
		{"with credentials a listed null is echoed", withCreds, "null", "GET", "",
			[]string{"Access-Control-Allow-Credentials: true", "Access-Control-Allow-Methods: GET", "Access-Control-Allow-Origin: null", varyPreflight}},
		{"with credentials an unlisted origin is never reflected", withCreds, "https://attacker.test", "GET", "", []string{varyPreflight}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := policy(t, tc.policy)
			r := httptest.NewRequest(http.MethodOptions, "http://gw/prod/pets", nil)
			r.Header.Set("Origin", tc.origin)
			r.Header.Set("Access-Control-Request-Method", tc.method)
			if tc.requestHeaders != "" {
				r.Header.Set("Access-Control-Request-Headers", tc.requestHeaders)
			}
			if !IsPreflight(r) {
				t.Fatal("IsPreflight = false for a preflight")
			}
			w := httptest.NewRecorder()
			Preflight(w, r, c)
			if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
				t.Fatalf("got %d with %d body bytes, want 204 and no body", w.Code, w.Body.Len())
			}
			if got := corsHeaders(w.Header()); !slices.Equal(got, tc.want) {
				t.Fatalf("headers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestOnlyOptionsWithOriginAndRequestMethodIsAPreflight(t *testing.T) {
	tests := []struct {
		name           string
		method, origin string
		acrm           string
		want           bool
	}{
		{"OPTIONS with both headers is a preflight", "OPTIONS", "https://a.test", "GET", true},
		{"OPTIONS without Origin is not", "OPTIONS", "", "GET", false},
		{"OPTIONS without Access-Control-Request-Method is not", "OPTIONS", "https://a.test", "", false},
		{"GET with both headers is not", "GET", "https://a.test", "GET", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://gw/", nil)
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			if tc.acrm != "" {
				r.Header.Set("Access-Control-Request-Method", tc.acrm)
			}
			if got := IsPreflight(r); got != tc.want {
				t.Fatalf("IsPreflight = %v, want %v", got, tc.want)
			}
		})
	}
}

// backendWithCORS sets the headers of a backend that sends its own, wider
// CORS headers.
func backendWithCORS(h http.Header) {
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Expose-Headers", "x-backend-secret")
	h.Set("Access-Control-Allow-Methods", "DELETE")
	h.Set("Access-Control-Max-Age", "99999")
	h.Set("X-Backend", "1")
	h.Add("Vary", "Accept-Encoding")
}

// The moment Apply runs (the final status of any response, never a 1xx) is
// the dataplane's header side, tested there (TestHeaderSide...).
func TestResponsesGetThePolicysHeadersAndNeverTheBackends(t *testing.T) {
	tests := []struct {
		name   string
		policy table.CORS
		origin string
		set    func(http.Header)
		want   []string
	}{
		{"an allowed origin gets Allow-Origin and Expose in place of the backend's", listed, "https://app.example.com", backendWithCORS,
			[]string{"Access-Control-Allow-Origin: https://app.example.com", "Access-Control-Expose-Headers: x-request-id", "Vary: Accept-Encoding, Origin"}},
		{"an unlisted origin gets none of the backend's CORS headers", listed, "https://attacker.test", backendWithCORS,
			[]string{"Vary: Accept-Encoding, Origin"}},
		{"a request without Origin gets no CORS headers but Vary", listed, "", backendWithCORS,
			[]string{"Vary: Accept-Encoding, Origin"}},
		{"a literal star answer has no Vary: Origin", public, "https://anyone.test", backendWithCORS,
			[]string{"Access-Control-Allow-Origin: *", "Vary: Accept-Encoding"}},
		{"with credentials expose star lists the response's header names", withCreds, "https://app.example.com",
			func(h http.Header) {
				h.Set("X-Request-Id", "abc")
				h.Set("Content-Type", "text/plain")
			},
			[]string{"Access-Control-Allow-Credentials: true", "Access-Control-Allow-Origin: https://app.example.com",
				"Access-Control-Expose-Headers: Content-Type, X-Request-Id", "Vary: Origin"}},
		{"a gateway error gets the CORS headers", listed, "https://app.example.com",
			func(h http.Header) { h.Set("Content-Type", "application/json") },
			[]string{"Access-Control-Allow-Origin: https://app.example.com", "Access-Control-Expose-Headers: x-request-id", "Vary: Origin"}},
		{"a backend Vary that names Origin is not repeated", listed, "https://app.example.com",
			func(h http.Header) { h.Set("Vary", "origin, accept") },
			[]string{"Access-Control-Allow-Origin: https://app.example.com", "Access-Control-Expose-Headers: x-request-id", "Vary: origin, accept"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			tc.set(h)
			c := policy(t, tc.policy)
			origin := tc.origin
			if !c.AllowOrigin(origin) {
				origin = ""
			}
			Apply(h, c, origin)
			if got := corsHeaders(h); !slices.Equal(got, tc.want) {
				t.Fatalf("headers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
