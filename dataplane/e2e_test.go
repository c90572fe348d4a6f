package dataplane

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// TestServiceRouteThroughTheRealProxy sends requests through the built-in
// forwarder to a loopback backend registered with UpdateEndpoints.
func TestServiceRouteThroughTheRealProxy(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s %s id=%s", r.Method, r.RequestURI, r.Header.Get("X-Request-Id"))
	}))
	defer backend.Close()
	host, port, _ := net.SplitHostPort(backend.Listener.Addr().String())
	p, _ := strconv.Atoi(port)

	s := NewServer(Options{}) // built-in proxy; no egress denied, so loopback is allowed
	s.Swap(mustTable(t, testApi(table.ProtocolHTTP, stage("prod", serviceRoute("ANY /pets/{proxy+}")))))
	front := httptest.NewServer(s)
	defer front.Close()

	if code, body, _ := get(t, front.URL+"/prod/pets/x"); code != 503 || body != `{"message":"Service Unavailable"}` {
		t.Fatalf("without endpoints: %d %s", code, body)
	}
	s.UpdateEndpoints(table.EndpointSets{"shop/pets:": {{Address: host, Port: int32(p)}}})

	req, _ := http.NewRequest("GET", front.URL+"/prod/pets/a%20b/c%3Bd?q=1", nil)
	req.Host = testHost
	res, err := front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	want := "GET /pets/a%20b/c%3Bd?q=1 id=" + res.Header.Get("X-Request-Id")
	if res.StatusCode != 200 || string(body) != want || res.Header.Get("X-Request-Id") == "" {
		t.Fatalf("got %d %q, want %q", res.StatusCode, body, want)
	}
}
