package websocket

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// hijackGate is a ResponseWriter whose Hijack waits for the test: the 101
// answer is "being written" until release is closed.
type hijackGate struct {
	http.ResponseWriter
	server  net.Conn
	entered chan struct{}
	release chan struct{}
}

func (g *hijackGate) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	close(g.entered)
	<-g.release
	return g.server, bufio.NewReadWriter(bufio.NewReader(g.server), bufio.NewWriter(g.server)), nil
}

type nopDispatcher struct{}

func (nopDispatcher) Dispatch(context.Context, *Event) {}

// An @connections call that arrives while the 101 answer is written (the
// client may read it before Accept returns) finds the connection instead
// of answering 410.
func TestGetWaitsForAHandshakeInProgress(t *testing.T) {
	h := NewHub(Options{Dispatcher: nopDispatcher{}})
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	r := httptest.NewRequest(http.MethodGet, "/prod", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	ev := h.Connecting(r)
	server, client := net.Pipe()
	t.Cleanup(func() { _ = client.Close() })
	go func() { _, _ = bufio.NewReader(client).WriteTo(discard{}) }()
	g := &hijackGate{ResponseWriter: httptest.NewRecorder(), server: server, entered: make(chan struct{}), release: make(chan struct{})}
	accepted := make(chan error, 1)
	go func() { accepted <- h.Accept(g, r, ev, "") }()
	<-g.entered

	found := make(chan *Conn, 1)
	go func() { found <- h.get(ev.Conn.ID) }()
	select {
	case c := <-found:
		t.Fatalf("get answered %v during the handshake instead of waiting", c)
	case <-time.After(50 * time.Millisecond):
	}
	close(g.release)
	if err := <-accepted; err != nil {
		t.Fatal(err)
	}
	if c := <-found; c != ev.Conn {
		t.Fatalf("get after the handshake = %v, want the connection", c)
	}
	if h.get("AAAAAAAAAAAAAAAAAAAA") != nil {
		t.Fatal("an unknown id was found")
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
