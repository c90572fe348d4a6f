package proxy

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"testing"
	"time"
)

// rawRequest sends bytes as they are to addr and returns what the test
// backend reported seeing (the gateway answers with the backend's JSON).
func rawRequest(t *testing.T, addr, req string) seen {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	var s seen
	if err := json.Unmarshal(body, &s); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	return s
}

func header(s seen, name string) []string { return http.Header(s.Header).Values(name) }

func TestForwardedHeaders(t *testing.T) {
	b := newBackend(t, "b", nil)
	spoof := "GET /x HTTP/1.1\r\nHost: api.example.com\r\n" +
		"X-Forwarded-For: 1.2.3.4\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n" +
		"X-Forwarded-Prefix: /admin\r\nX-Real-Ip: 1.2.3.4\r\nConnection: close\r\n\r\n"
	cases := []struct {
		name    string
		trusted []netip.Prefix
		want    map[string][]string
	}{
		{
			name:    "an untrusted peer's forwarding headers are replaced by the connection's",
			trusted: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
			want: map[string][]string{
				"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Proto": {"http"},
				"X-Forwarded-Host": {"api.example.com"}, "X-Forwarded-Prefix": nil, "X-Real-Ip": nil,
			},
		},
		{
			name:    "a trusted peer's forwarding headers are kept and the peer appended",
			trusted: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
			want: map[string][]string{
				"X-Forwarded-For": {"1.2.3.4, 127.0.0.1"}, "X-Forwarded-Proto": {"https"},
				"X-Forwarded-Host": {"evil.example"}, "X-Forwarded-Prefix": {"/admin"},
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := serviceGateway(t, storeWith(b.endpoint(t)), Options{TrustedProxies: c.trusted}, 0)
			s := rawRequest(t, g.Listener.Addr().String(), spoof)
			for name, want := range c.want {
				if got := header(s, name); !slices.Equal(got, want) {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			if s.Host != "api.example.com" {
				t.Errorf("Host = %q, want the client's", s.Host)
			}
		})
	}
}

func TestConnectionHeaderCannotRemoveForwardingHeaders(t *testing.T) {
	b := newBackend(t, "b", nil)
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	s := rawRequest(t, g.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: h\r\n"+
		"Connection: X-Forwarded-For, X-Forwarded-Proto, X-Forwarded-Host, close\r\n"+
		"X-Forwarded-For: 6.6.6.6\r\n\r\n")
	for name, want := range map[string]string{"X-Forwarded-For": "127.0.0.1", "X-Forwarded-Proto": "http", "X-Forwarded-Host": "h"} {
		if got := header(s, name); !slices.Equal(got, []string{want}) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestHopByHopHeadersAreNotForwarded(t *testing.T) {
	b := newBackend(t, "b", nil)
	g := serviceGateway(t, storeWith(b.endpoint(t)), Options{}, 0)
	s := rawRequest(t, g.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: h\r\n"+
		"Connection: Upgrade, HTTP2-Settings, X-Secret, Keep-Alive\r\nKeep-Alive: timeout=5\r\n"+
		"Te: deflate\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nX-Secret: s\r\nX-Kept: k\r\n\r\n")
	for _, name := range []string{"Connection", "Keep-Alive", "Te", "Upgrade", "Http2-Settings", "X-Secret"} {
		if got := header(s, name); len(got) > 0 {
			t.Errorf("%s forwarded as %q", name, got)
		}
	}
	if got := header(s, "X-Kept"); !slices.Equal(got, []string{"k"}) {
		t.Errorf("end-to-end header X-Kept = %q", got)
	}
}

func TestStripH2C(t *testing.T) {
	cases := []struct {
		name        string
		in          http.Header
		wantUpgrade string
	}{
		{"an h2c upgrade is removed", http.Header{"Upgrade": {"h2c"}, "Connection": {"Upgrade"}}, ""},
		{"h2c in a list of protocols is removed", http.Header{"Upgrade": {"foo, H2C"}}, ""},
		{"a websocket upgrade is kept", http.Header{"Upgrade": {"websocket"}, "Connection": {"Upgrade"}}, "websocket"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Set("HTTP2-Settings", "x")
			stripH2C(c.in)
			if got := c.in.Get("Upgrade"); got != c.wantUpgrade {
				t.Fatalf("Upgrade = %q, want %q", got, c.wantUpgrade)
			}
			if c.in.Get("HTTP2-Settings") != "" {
				t.Fatal("HTTP2-Settings kept")
			}
		})
	}
}

func TestPeerAddr(t *testing.T) {
	cases := []struct{ name, remote, want string }{
		{"an IPv4 peer", "10.1.2.3:5555", "10.1.2.3"},
		{"an IPv4-mapped peer is unmapped", "[::ffff:10.1.2.3]:5555", "10.1.2.3"},
		{"an IPv6 peer", "[2001:db8::1]:80", "2001:db8::1"},
		{"a non-IP remote address gives no peer", "@", "invalid IP"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := peerAddr(c.remote).String(); got != c.want {
				t.Fatalf("peerAddr(%q) = %q, want %q", c.remote, got, c.want)
			}
		})
	}
}
