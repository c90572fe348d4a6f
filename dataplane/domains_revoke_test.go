package dataplane

import (
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptrace"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// keepAliveClient is an HTTPS client of g that keeps one connection and
// speaks proto ("http/1.1" or "h2").
func keepAliveClient(g *gateway, proto string, ca *authority, cert tls.Certificate) *http.Client {
	c := g.client(ca.pool, cert)
	tr := c.Transport.(*http.Transport)
	tr.MaxConnsPerHost = 1
	if proto == "http/1.1" {
		tr.ForceAttemptHTTP2 = false
		tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
	}
	return c
}

type connAnswer struct {
	status int
	body   string
	proto  string
	reused bool
	close  bool
}

// connGet sends GET url on c and reports whether it reused an open connection.
func connGet(t *testing.T, c *http.Client, url string) (connAnswer, error) {
	t.Helper()
	var a connAnswer
	req, _ := http.NewRequest("GET", url, nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { a.reused = i.Reused },
	}))
	res, err := c.Do(req)
	if err != nil {
		return a, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	a.status, a.body, a.proto, a.close = res.StatusCode, string(b), res.Proto, res.Close
	return a, nil
}

// Review finding 7: the client certificate was checked only in the
// handshake, so a replaced client CA or a broken Secret never reached
// connections already open.
func TestAMutualTLSChangeReachesConnectionsAlreadyOpen(t *testing.T) {
	for _, tc := range []struct {
		name, proto string
		change      func(t *testing.T, ca, clients *authority) *table.TLS
	}{
		{"the client CA is replaced, HTTP/1.1", "http/1.1", func(t *testing.T, ca, _ *authority) *table.TLS {
			return serverTLS(ca.issue(t, 1, "m", "mtls.example.com"), table.TLSVersion12, newAuthority(t, "Other Client CA"))
		}},
		{"the client CA is replaced, HTTP/2", "h2", func(t *testing.T, ca, _ *authority) *table.TLS {
			return serverTLS(ca.issue(t, 1, "m", "mtls.example.com"), table.TLSVersion12, newAuthority(t, "Other Client CA"))
		}},
		{"the Secret is broken", "http/1.1", func(*testing.T, *authority, *authority) *table.TLS {
			return &table.TLS{Secret: "shop/tls", MinVersion: table.TLSVersion12, ClientCASecret: "shop/ca", Err: `Secret "ca" has no ca.crt`}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ca, clients := newAuthority(t, "Server CA"), newAuthority(t, "Client CA")
			mtls := func(tl *table.TLS) *table.Table {
				return domainTable(t, true, domain("mtls.example.com", tl, mapTo("", "secure")))
			}
			g := startGateway(t, mtls(serverTLS(ca.issue(t, 1, "m", "mtls.example.com"), table.TLSVersion12, clients)))
			c := keepAliveClient(g, tc.proto, ca, clients.issue(t, 7, "client"))
			want := "HTTP/1.1"
			if tc.proto == "h2" {
				want = "HTTP/2.0"
			}
			if a, err := connGet(t, c, "https://mtls.example.com/pets"); err != nil || a.status != 200 || a.body != "secure" || a.proto != want {
				t.Fatalf("before the change: %+v %v", a, err)
			}
			// The same CA in new TLS settings (any swap rebuilds them): the
			// open connection still verifies and keeps serving.
			g.s.Swap(mtls(serverTLS(ca.issue(t, 1, "m", "mtls.example.com"), table.TLSVersion12, clients)))
			if a, err := connGet(t, c, "https://mtls.example.com/pets"); err != nil || a.status != 200 || !a.reused {
				t.Fatalf("after an unrelated swap: %+v %v", a, err)
			}

			g.s.Swap(mtls(tc.change(t, ca, clients)))
			a, err := connGet(t, c, "https://mtls.example.com/pets")
			if err != nil || !a.reused || a.status != http.StatusForbidden || a.body != `{"message":"Forbidden"}` {
				t.Fatalf("the open connection after the change: %+v %v, want it reused and refused with 403", a, err)
			}
			if tc.proto == "http/1.1" && !a.close {
				t.Errorf("the refusal did not close the connection (Connection: close)")
			}
			// The connection is gone (closed, or a GOAWAY on HTTP/2): the next
			// request needs a new handshake, which the change refuses.
			deadline := time.Now().Add(2 * time.Second)
			for {
				a, err = connGet(t, c, "https://mtls.example.com/pets")
				if err != nil {
					break
				}
				if a.reused && tc.proto == "h2" && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond) // the GOAWAY may trail the answer
					continue
				}
				t.Fatalf("the next request was answered: %+v", a)
			}
		})
	}
}
