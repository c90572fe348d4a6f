package dataplane

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func TestParsePath(t *testing.T) {
	tests := []struct {
		name    string
		escaped string
		raw     []string
		dec     []string
		bad     bool
	}{
		{"the root has no segments", "/", nil, nil, false},
		{"plain segments split at slashes", "/prod/pets/1", []string{"prod", "pets", "1"}, []string{"prod", "pets", "1"}, false},
		{"a trailing slash is ignored", "/prod/pets/", []string{"prod", "pets"}, []string{"prod", "pets"}, false},
		{"segments are decoded once", "/a%20b/%2525", []string{"a%20b", "%2525"}, []string{"a b", "%25"}, false},
		{"plus stays a plus", "/a+b", []string{"a+b"}, []string{"a+b"}, false},
		{"a dot inside a segment is fine", "/file.json/..x", []string{"file.json", "..x"}, []string{"file.json", "..x"}, false},
		{"a dot-dot segment is refused", "/a/../b", nil, nil, true},
		{"a dot segment is refused", "/a/./b", nil, nil, true},
		{"an encoded dot-dot is refused", "/a/%2e%2E/b", nil, nil, true},
		{"a half-encoded dot-dot is refused", "/a/.%2e", nil, nil, true},
		{"an encoded slash is refused", "/a%2Fb", nil, nil, true},
		{"a lower-case encoded slash is refused", "/a%2fb", nil, nil, true},
		{"an encoded backslash is refused", "/a%5Cb", nil, nil, true},
		{"a lower-case encoded backslash is refused", "/a%5cb", nil, nil, true},
		{"a raw backslash is refused", `/a\b`, nil, nil, true},
		{"an encoded NUL is refused", "/a%00b", nil, nil, true},
		{"a ..; segment (a dot segment to servlet containers) is refused", "/a/..;/b", nil, nil, true},
		{"a .;x segment is refused", "/a/.;x/b", nil, nil, true},
		{"an encoded ..; is refused", "/a/..%3Bjsessionid=1/b", nil, nil, true},
		{"overlong UTF-8 for a dot is refused", "/a/%c0%ae%c0%ae/b", nil, nil, true},
		{"a lone continuation byte is refused", "/a/%80", nil, nil, true},
		{"valid UTF-8 escapes are kept", "/caf%C3%A9", []string{"caf%C3%A9"}, []string{"café"}, false},
		{"a ; inside a segment is a character", "/a;b/x..;", []string{"a;b", "x..;"}, []string{"a;b", "x..;"}, false},
		{"a raw NUL is refused", "/a\x00b", nil, nil, true},
		{"an empty middle segment is refused", "/a//b", nil, nil, true},
		{"a leading double slash is refused", "//a", nil, nil, true},
		{"a double trailing slash is refused", "/a//", nil, nil, true},
		{"a non-hex escape is refused", "/a%zzb", nil, nil, true},
		{"a truncated escape is refused", "/a%2", nil, nil, true},
		{"a lone percent is refused", "/a%", nil, nil, true},
		{"a relative path is refused", "a/b", nil, nil, true},
		{"the asterisk form is refused", "*", nil, nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, hint, err := parsePath(tc.escaped, nil, nil)
			if tc.bad {
				if err == nil || hint == "" {
					t.Fatalf("want an error with a hint, got %v %q (%q)", err, hint, p.dec)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v (%s)", err, hint)
			}
			if fmt.Sprint(p.raw) != fmt.Sprint(tc.raw) || fmt.Sprint(p.dec) != fmt.Sprint(tc.dec) {
				t.Fatalf("raw %q dec %q, want %q %q", p.raw, p.dec, tc.raw, tc.dec)
			}
		})
	}
}

// attackPaths are request targets the gateway must refuse with its own 400,
// reaching neither route matching nor a backend.
var attackPaths = []string{
	"/prod/a/../pets", "/prod/%2e%2e/pets", "/prod/pets%2F..%2Fadmin", "/prod/pets%2fx",
	"/prod/pets%00", "/prod/pets%5C..", "/prod//pets", "/prod/%2E/pets",
}

func attackServer(t *testing.T) (*Server, *fakeForwarder) {
	fwd := &fakeForwarder{}
	return newTestServer(t, fwd, testApi(table.ProtocolHTTP,
		stage("prod", serviceRoute("ANY /{proxy+}")),
		stage(table.DefaultStage, serviceRoute("$default")))), fwd
}

func TestPathAttacksAreRefusedThroughTheHandler(t *testing.T) {
	s, fwd := attackServer(t)
	for _, target := range attackPaths {
		w := do(s, "GET", target, nil)
		if w.Code != 400 || trimBody(w) != `{"message":"Bad Request"}` {
			t.Errorf("%s: got %d %s", target, w.Code, trimBody(w))
		}
	}
	// Targets net/url cannot parse arrive here only with a raw path set.
	for _, raw := range []string{"/prod/%zz", `/prod/a\b`, "/prod/a%"} {
		r := httptest.NewRequest("GET", "http://"+testHost+"/prod/x", nil)
		r.URL.RawPath = raw
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != 400 || trimBody(w) != `{"message":"Bad Request"}` {
			t.Errorf("%s: got %d %s", raw, w.Code, trimBody(w))
		}
	}
	if tg, _ := fwd.last(); tg.Integration != nil {
		t.Fatalf("a refused path reached the forwarder: %+v", tg)
	}
	if w := do(s, "GET", "/prod/a/b%20c", nil); w.Code != 200 {
		t.Fatalf("a clean path got %d", w.Code)
	}
}

// rawRequest writes target verbatim in a request line to addr and returns
// the status and body, bypassing every client-side path cleaning.
func rawRequest(t *testing.T, addr, target string) (int, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, testHost)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(b))
}

func TestPathAttacksAreRefusedOverRawTCP(t *testing.T) {
	s, fwd := attackServer(t)
	srv := httptest.NewServer(s)
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, target := range append(attackPaths, `/prod/a\b`) {
		if status, body := rawRequest(t, addr, target); status != 400 || body != `{"message":"Bad Request"}` {
			t.Errorf("%s: got %d %s", target, status, body)
		}
	}
	// net/http refuses an unparsable escape before our handler runs; a 400
	// from either layer is the point.
	if status, _ := rawRequest(t, addr, "/prod/%zz"); status != 400 {
		t.Errorf("bad escape: got %d", status)
	}
	if tg, _ := fwd.last(); tg.Integration != nil {
		t.Fatalf("a refused path reached the forwarder: %+v", tg)
	}
	if status, _ := rawRequest(t, addr, "/prod/pets/1"); status != 200 {
		t.Fatalf("a clean path got %d", status)
	}
}
