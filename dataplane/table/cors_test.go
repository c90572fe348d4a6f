package table

import (
	"strings"
	"testing"
)

// compiledCORS compiles c through New, as the dataplane receives it.
func compiledCORS(t testing.TB, c *CORS) *CORS {
	t.Helper()
	if _, err := New([]*Api{{Namespace: "ns", Name: "api", Hosts: []string{"h"}, CORS: c}}); err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func TestCORSOriginMatching(t *testing.T) {
	tests := []struct {
		name    string
		origins []string
		origin  string
		want    bool
	}{
		{"an exact origin matches itself", []string{"https://app.example.com"}, "https://app.example.com", true},
		{"an exact origin does not match another port", []string{"https://app.example.com"}, "https://app.example.com:8443", false},
		{"an exact origin does not match another scheme", []string{"https://app.example.com"}, "http://app.example.com", false},
		{"an exact origin with its default port matches the browser's form", []string{"https://app.example.com:443"}, "https://app.example.com", true},
		{"an exact origin does not match a longer host", []string{"https://example.com"}, "https://example.com.evil.io", false},
		{"an upper-case configured origin matches", []string{"https://App.Example.com"}, "https://app.example.com", true},
		{"an upper-case request origin matches", []string{"https://app.example.com"}, "https://APP.example.com", true},
		{"star matches any origin", []string{"*"}, "https://anything.test:1234", true},
		{"star does not match null", []string{"*"}, "null", false},
		{"null matches only when listed", []string{"null"}, "null", true},
		{"null is refused when not listed", []string{"https://app.example.com"}, "null", false},
		{"an empty origin never matches", []string{"*"}, "", false},
		{"https://* matches every https origin", []string{"https://*"}, "https://a.b.c", true},
		{"https://* matches every https origin on any port", []string{"https://*"}, "https://a.b.c:8443", true},
		{"https://* does not match http", []string{"https://*"}, "http://a.b.c", false},
		{"https://*:8443 matches only that port", []string{"https://*:8443"}, "https://a.b.c", false},
		{"a suffix pattern matches a subdomain", []string{"https://*.example.com"}, "https://app.example.com", true},
		{"a suffix pattern matches a deeper subdomain", []string{"https://*.example.com"}, "https://a.b.example.com", true},
		{"a suffix pattern does not match the bare domain", []string{"https://*.example.com"}, "https://example.com", false},
		{"a suffix pattern is anchored at a label: evil-example.com", []string{"https://*.example.com"}, "https://evil-example.com", false},
		{"a suffix pattern is anchored at the end: example.com.evil.io", []string{"https://*.example.com"}, "https://example.com.evil.io", false},
		{"a suffix pattern does not match another scheme", []string{"https://*.example.com"}, "http://app.example.com", false},
		{"a suffix pattern without port does not match a port", []string{"https://*.example.com"}, "https://app.example.com:8443", false},
		{"a suffix pattern with port matches that port", []string{"http://*.localhost:3000"}, "http://app.localhost:3000", true},
		{"a suffix pattern with port refuses another port", []string{"http://*.localhost:3000"}, "http://app.localhost:3001", false},
		{"a suffix pattern refuses user info", []string{"https://*.example.com"}, "https://evil.io@a.example.com", false},
		{"a suffix pattern refuses a path", []string{"https://*.example.com"}, "https://a.example.com/x", false},
		{"a suffix pattern refuses an empty label", []string{"https://*.example.com"}, "https://.example.com", false},
		{"a suffix pattern refuses an empty port", []string{"https://*.example.com"}, "https://a.example.com:", false},
		{"an unlisted origin is refused", []string{"https://app.example.com", "https://*.example.org"}, "https://attacker.test", false},
		{"an IPv6 origin matches exactly", []string{"http://[::1]:8080"}, "http://[::1]:8080", true},
		{"an IPv6 origin matches a scheme wildcard", []string{"http://*"}, "http://[::1]:8080", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := compiledCORS(t, &CORS{AllowOrigins: tc.origins})
			if got := c.AllowOrigin(tc.origin); got != tc.want {
				t.Fatalf("AllowOrigin(%q) with %q = %v, want %v", tc.origin, tc.origins, got, tc.want)
			}
		})
	}
}

func TestOriginPatternsTheCRDCannotRuleOutAreRejected(t *testing.T) {
	for _, p := range []string{
		"https://*example.com", "https://a.*.com", "https://*.", "https://a..com", "https://a.com:99999",
		"https://a.com:0", "ftp://a.com", "app.example.com", "https://a.com/path", "https://*.a.com:",
	} {
		if err := ParseOriginPattern(p); err == nil {
			t.Errorf("ParseOriginPattern(%q) accepted it", p)
		}
	}
	for _, p := range []string{"*", "null", "https://*", "http://*:8080", "https://*.example.com", "http://localhost:3000", "HTTPS://A.COM"} {
		if err := ParseOriginPattern(p); err != nil {
			t.Errorf("ParseOriginPattern(%q): %v", p, err)
		}
	}
}

func TestNewRefusesCredentialsWithTheWildcardOrigin(t *testing.T) {
	_, err := New([]*Api{{Namespace: "ns", Name: "api", CORS: &CORS{AllowOrigins: []string{"*"}, AllowCredentials: true}}})
	if err == nil || !strings.Contains(err.Error(), "allowCredentials") {
		t.Fatalf("New accepted credentials with origin *: %v", err)
	}
}

func TestNewRefusesAnInvalidOriginPattern(t *testing.T) {
	_, err := New([]*Api{{Namespace: "ns", Name: "api", CORS: &CORS{AllowOrigins: []string{"https://a.*.com"}}}})
	if err == nil || !strings.Contains(err.Error(), "a.*.com") {
		t.Fatalf("New accepted an invalid pattern: %v", err)
	}
}

func TestCORSMethodsAndHeaders(t *testing.T) {
	c := compiledCORS(t, &CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"PUT", "DELETE"},
		AllowHeaders: []string{"x-custom", "content-type"}, ExposeHeaders: []string{"x-request-id"}, MaxAgeSeconds: 600})
	if !c.AllowMethod("PUT") || c.AllowMethod("put") || c.AllowMethod("PATCH") {
		t.Error("methods must match exactly and case-sensitively")
	}
	if !c.AllowRequestHeaders("X-Custom, content-type") || !c.AllowRequestHeaders("") {
		t.Error("listed headers (any case) and no headers must be allowed")
	}
	if c.AllowRequestHeaders("x-custom,x-other") {
		t.Error("an unlisted header among listed ones must be refused")
	}
	if got := strings.Join(c.MethodsValue(), "|"); got != "PUT, DELETE" {
		t.Errorf("MethodsValue = %q", got)
	}
	if got := strings.Join(c.MaxAgeValue(), "|"); got != "600" {
		t.Errorf("MaxAgeValue = %q", got)
	}
	if v := c.MethodsValue(); cap(v) != len(v) {
		t.Error("a shared header value must have len == cap")
	}
	star := compiledCORS(t, &CORS{AllowOrigins: []string{"*"}, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}})
	if !star.AllowMethod("PATCH") || !star.AllowRequestHeaders("anything") || !star.AnyMethod() || !star.AnyHeader() {
		t.Error(`"*" must allow every method and header`)
	}
	if !star.LiteralStar() {
		t.Error(`origin "*" without credentials answers a literal "*"`)
	}
	if star.MaxAgeValue() != nil {
		t.Error("no maxAgeSeconds must send no Access-Control-Max-Age")
	}
}

// FuzzAllowOrigin checks the anchoring invariant on arbitrary Origin values:
// whatever a suffix pattern admits is an https origin whose host is a
// subdomain of example.com, and "null" is never admitted unless listed.
func FuzzAllowOrigin(f *testing.F) {
	for _, s := range []string{"https://a.example.com", "https://evil-example.com", "https://example.com.evil.io",
		"null", "https://a.example.com:1", "https://x@a.example.com", "HTTPS://A.EXAMPLE.COM", "https://[::1]"} {
		f.Add(s)
	}
	c := compiledCORS(f, &CORS{AllowOrigins: []string{"https://*.example.com", "https://app.example.org"}})
	f.Fuzz(func(t *testing.T, origin string) {
		if !c.AllowOrigin(origin) {
			return
		}
		o := strings.ToLower(origin)
		if o == "https://app.example.org" {
			return
		}
		host, ok := strings.CutPrefix(o, "https://")
		if !ok || !strings.HasSuffix(host, ".example.com") || len(host) <= len(".example.com") || strings.ContainsAny(host, "/@:?#") {
			t.Fatalf("AllowOrigin(%q) = true outside https://*.example.com", origin)
		}
	})
}
