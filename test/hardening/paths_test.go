package hardening

import (
	"strings"
	"testing"
	"time"
)

// domainStage maps a custom domain (plain HTTP, no TLS settings) to the
// fixture's Api, for the host canonicalisation cases.
const domainStage = `apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: custom, namespace: shop}
spec:
  apiName: pets
  stageName: custom
  domains: [{hostname: api.example.com, basePath: v1}]
`

// pathCase is one request target and what must come of it: refused with
// status, or routed with the backend receiving want (its path and query).
// SERVICE forwards the path with the client's escaping; HTTP_PROXY fills its
// uri's {proxy} with the decoded parameter escaped again by net/url (one
// canonical escaping; a trailing slash is not part of the parameter): wantRP
// when that differs.
type pathCase struct {
	name, target string
	status       int
	want         string // the backend's request URI ("" when refused)
	wantRP       string
}

var pathCases = []pathCase{
	{"a dot-dot segment", "/prod/direct/a/../keyed/x", 400, "", ""},
	{"a dot segment", "/prod/direct/./x", 400, "", ""},
	{"..%2f", "/prod/direct/..%2fkeyed/x", 400, "", ""},
	{"..%2F", "/prod/direct/..%2Fkeyed/x", 400, "", ""},
	{"%2e%2e", "/prod/direct/%2e%2e/keyed/x", 400, "", ""},
	{"%2E%2e mixed case", "/prod/direct/%2E%2e/keyed/x", 400, "", ""},
	{"%2e", "/prod/direct/%2e/x", 400, "", ""},
	{"// inside", "/prod/direct//x", 400, "", ""},
	{"// at the start", "//prod/direct/x", 400, "", ""},
	{"a backslash", `/prod/direct/x\..\keyed`, 400, "", ""},
	{"%5c", "/prod/direct/x%5c..%5ckeyed", 400, "", ""},
	{"%00", "/prod/direct/x%00.json", 400, "", ""},
	{"a bad escape", "/prod/direct/x%zz", 400, "", ""},
	{"a truncated escape", "/prod/direct/x%2", 400, "", ""},
	{"an encoded slash in the route part", "/prod/keyed%2fx", 400, "", ""},
	// ";" is an ordinary character of a segment: routed and forwarded as sent.
	{"; in a segment", "/prod/direct/a;b=c/d", 200, "/direct/a;b=c/d", "/direct/a%3Bb=c/d"},
	{"..; segment", "/prod/direct/..;/keyed/x", 200, "/direct/..;/keyed/x", "/direct/..%3B/keyed/x"},
	// Decoded once for routing, forwarded with the client's escaping.
	{"%252e%252e (double encoding) is one literal segment", "/prod/direct/%252e%252e/keyed", 200, "/direct/%252e%252e/keyed", ""},
	{"overlong UTF-8 for '.' is not a dot", "/prod/direct/%c0%ae%c0%ae/keyed", 200, "/direct/%c0%ae%c0%ae/keyed", "/direct/%C0%AE%C0%AE/keyed"},
	{"%7E keeps its escaping", "/prod/direct/%7Euser", 200, "/direct/%7Euser", "/direct/~user"},
	{"%7e keeps its escaping", "/prod/direct/%7euser", 200, "/direct/%7euser", "/direct/~user"},
	{"a trailing slash", "/prod/direct/x/", 200, "/direct/x/", "/direct/x"},
	{"an escaped dot-dot in the query stays in the query", "/prod/direct/x?q=..%2f..&r=%00", 200, "/direct/x?q=..%2f..&r=%00", ""},
	// Paths are case-sensitive, and authorization follows the route.
	{"the keyed route without a key", "/prod/keyed/x", 403, "", ""},
	{"Keyed is another path", "/prod/Keyed/x", 404, "", ""},
}

// TestPathsAreRoutedAndForwardedOnOneCanonicalPathOrRefused sends each
// ambiguous path on both forwarding paths: refused with 400 (before any
// authorization: the keyed route is never reached with an encoded or dotted
// path), or routed with the backend receiving exactly the path the gateway
// matched, with its original escaping.
func TestPathsAreRoutedAndForwardedOnOneCanonicalPathOrRefused(t *testing.T) {
	e := start(t, "")
	for _, path := range []string{"direct", "rp"} {
		for _, c := range pathCases {
			t.Run(path+"/"+c.name, func(t *testing.T) {
				target := strings.ReplaceAll(c.target, "/direct/", "/"+path+"/")
				conn := dialRaw(t, e.gw.HTTP)
				conn.send(t, "GET "+target+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
				res, err := conn.read(5*time.Second, "GET")
				if err != nil || res.status != c.status {
					t.Fatalf("got %d %q (%v), want %d", res.status, res.body, err, c.status)
				}
				time.Sleep(20 * time.Millisecond)
				got := e.plainOrTLS(path).take()
				if c.want == "" {
					if len(got) != 0 || len(e.plainOrTLS(otherPath(path)).take()) != 0 {
						t.Fatalf("refused, yet a backend received %s", describe(got))
					}
					// A request target net/http cannot parse is refused by
					// net/http itself, in plain text.
					if !strings.HasPrefix(res.body, `{"message":`) && res.body != "400 Bad Request" {
						t.Errorf("body %q is not the JSON error", res.body)
					}
					return
				}
				want := c.want
				if path == "rp" && c.wantRP != "" {
					want = c.wantRP
				}
				want = strings.ReplaceAll(want, "/direct/", "/"+path+"/")
				if len(got) != 1 || got[0].Path != want {
					t.Fatalf("backend received %s, want exactly %s", describe(got), want)
				}
			})
		}
	}
}

func otherPath(p string) string {
	if p == "rp" {
		return "direct"
	}
	return "rp"
}

// TestHostsHaveOneCanonicalForm proves that a Host with a port, a trailing
// dot or in upper case is the same host for routing (default endpoint and
// custom domain), that malformed hosts are refused by the server, and that
// the Host is never reflected into a Location header or an error body.
func TestHostsHaveOneCanonicalForm(t *testing.T) {
	e := start(t, domainStage)
	cases := []struct {
		name, host, target string
		status             int
	}{
		{"with a port", host + ":8080", "/prod/direct/x", 200},
		{"upper case", strings.ToUpper(host), "/prod/direct/x", 200},
		{"a trailing dot", host + ".", "/prod/direct/x", 200},
		{"a trailing dot and a port", host + ".:80", "/prod/direct/x", 200},
		{"custom domain in mixed case with a trailing dot", "API.Example.COM.", "/v1/direct/x", 200},
		{"custom domain with a port", "api.example.com:443", "/v1/direct/x", 200},
		{"IDN in UTF-8", "pëts.shop.execute-api.localhost", "/prod/direct/x", 400},
		{"IDN in punycode is another host", "xn--pts-hoa.shop.execute-api.localhost", "/prod/direct/x", 404},
		{"an unknown host", "evil.example", "/prod/direct/x", 404},
		{"userinfo in the host", host + "@evil.example", "/prod/direct/x", 400},
		{"a host with a path", "evil.example/x", "/prod/direct/x", 400},
		{"an empty host", "", "/prod/direct/x", 404},
		{"unknown host on a bad path", "evil.example", "/prod/direct/..%2f", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := dialRaw(t, e.gw.HTTP)
			conn.send(t, "GET "+c.target+" HTTP/1.1\r\nHost: "+c.host+"\r\nX-Forwarded-Host: evil.example\r\n\r\n")
			res, err := conn.read(5*time.Second, "GET")
			if err != nil || res.status != c.status {
				t.Fatalf("got %d %q (%v), want %d", res.status, res.body, err, c.status)
			}
			if loc := res.header.Get("Location"); loc != "" {
				t.Errorf("Location %q", loc)
			}
			if strings.Contains(strings.ToLower(res.body), "evil") || (c.host != "" && strings.Contains(res.body, c.host)) {
				t.Errorf("the Host is reflected into the body %q", res.body)
			}
			for k, v := range res.header {
				if strings.Contains(strings.ToLower(strings.Join(v, " ")), "evil") {
					t.Errorf("the Host is reflected into header %s: %q", k, v)
				}
			}
			got := e.plain.take()
			if c.status == 200 && (len(got) != 1 || got[0].Path != "/direct/x") {
				t.Fatalf("backend received %s, want /direct/x", describe(got))
			}
		})
	}
}

// TestForwardedHeadersFromAnUntrustedPeerAreIgnored sends spoofed
// X-Forwarded-*, X-Real-Ip and Forwarded headers, and a Connection header
// naming the ones the gateway sets, on both forwarding paths: the backend
// gets the socket peer, the real host and scheme, and none of the spoofed
// values. With --trusted-proxies covering the peer, its values are kept and
// the peer appended (unless named in Connection: hop-by-hop, never passed).
func TestForwardedHeadersFromAnUntrustedPeerAreIgnored(t *testing.T) {
	spoof := "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Host: evil.example\r\nX-Forwarded-Proto: https\r\n" +
		"X-Forwarded-Prefix: /admin\r\nX-Real-Ip: 6.6.6.6\r\nForwarded: for=6.6.6.6;host=evil.example\r\n" +
		"Connection: keep-alive, X-Forwarded-For, X-Forwarded-Host\r\n"
	for _, trusted := range []bool{false, true} {
		var flags []string
		if trusted {
			flags = append(flags, "--trusted-proxies=127.0.0.0/8")
		}
		e := start(t, "", flags...)
		for _, path := range []string{"direct", "rp"} {
			name := map[bool]string{false: "untrusted", true: "trusted"}[trusted] + "/" + path
			t.Run(name, func(t *testing.T) {
				conn := dialRaw(t, e.gw.HTTP)
				headers := spoof
				if trusted { // named in Connection they are hop-by-hop, trusted or not
					headers = strings.Replace(spoof, ", X-Forwarded-For, X-Forwarded-Host", "", 1)
				}
				conn.send(t, "GET /prod/"+path+"/x HTTP/1.1\r\nHost: "+host+"\r\n"+headers+"\r\n")
				if res, err := conn.read(5*time.Second, "GET"); err != nil || res.status != 200 {
					t.Fatalf("got %d (%v)", res.status, err)
				}
				got := e.plainOrTLS(path).take()
				if len(got) != 1 {
					t.Fatalf("backend received %s", describe(got))
				}
				h := got[0].Header
				want := map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Host": host, "X-Forwarded-Proto": "http",
					"X-Forwarded-Prefix": "", "X-Real-Ip": "", "Forwarded": ""}
				if trusted {
					want = map[string]string{"X-Forwarded-For": "6.6.6.6, 127.0.0.1", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
				}
				for k, v := range want {
					if g := strings.Join(h.Values(k), ","); g != v {
						t.Errorf("backend got %s %q, want %q", k, g, v)
					}
				}
			})
		}
	}
}
