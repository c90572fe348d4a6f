package connlimit

import (
	"net"
	"net/http"
	"testing"
	"time"
)

// accepted dials ln n times and returns the server sides in accept order.
func accepted(t *testing.T, ln net.Listener, n int) []net.Conn {
	t.Helper()
	var out []net.Conn
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func listen(t *testing.T, l *Limiter) net.Listener {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := l.Listener(raw)
	t.Cleanup(func() { _ = ln.Close() })
	return ln
}

// TestAtTheBoundTheLongestIdleConnectionMakesRoom proves the two rules: a
// new connection at the bound closes the connection idle the longest, and
// with none idle it waits until a slot frees; Open never passes the bound.
func TestAtTheBoundTheLongestIdleConnectionMakesRoom(t *testing.T) {
	l := New(2)
	ln := listen(t, l)
	cs := accepted(t, ln, 2)
	l.Track(cs[1], http.StateIdle)
	l.Track(cs[0], http.StateIdle) // idle later than cs[1]
	third := accepted(t, ln, 1)[0]
	if _, err := cs[1].Write([]byte("x")); err == nil {
		t.Error("the longest-idle connection is still open")
	}
	if _, err := cs[0].Write([]byte("x")); err != nil {
		t.Errorf("the other idle connection was closed: %v", err)
	}
	if l.Open() != 2 || l.Reclaimed() != 1 {
		t.Fatalf("open %d reclaimed %d, want 2 and 1", l.Open(), l.Reclaimed())
	}

	l.Track(cs[0], http.StateActive) // nothing idle now
	got := make(chan net.Conn, 1)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	go func() {
		s, err := ln.Accept()
		if err == nil {
			got <- s
		}
	}()
	select {
	case <-got:
		t.Fatal("a connection was admitted over the bound")
	case <-time.After(200 * time.Millisecond):
	}
	_ = third.Close() // frees a slot
	select {
	case s := <-got:
		_ = s.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("the waiting connection was not admitted when a slot freed")
	}
	if l.Open() > 2 {
		t.Fatalf("open %d", l.Open())
	}
}

// TestNoLimit proves that a bound of 0 leaves the listener as it is.
func TestNoLimit(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if New(0).Listener(raw) != raw {
		t.Fatal("a Limiter without a bound wrapped the listener")
	}
}

// A hijacked connection (an upgraded WebSocket) frees its slot at once, and
// its later Close frees nothing more.
func TestAHijackedConnectionLeavesTheBudget(t *testing.T) {
	l := New(2)
	ln := listen(t, l)
	conns := accepted(t, ln, 2)
	l.Track(conns[0], http.StateActive)
	l.Track(conns[0], http.StateHijacked)
	if n := l.Open(); n != 1 {
		t.Fatalf("open after a hijack = %d, want 1", n)
	}
	_ = conns[0].Close()
	if n := l.Open(); n != 1 {
		t.Fatalf("open after closing the hijacked connection = %d, want 1", n)
	}
	accepted(t, ln, 1) // a slot was free: no wait
	if n := l.Open(); n != 2 {
		t.Fatalf("open = %d, want 2", n)
	}
}

// TestCloseWriteReachesTheClient proves a limited connection half-closes as
// the TCP connection under it would: the client reads EOF at once while the
// server side stays open. net/http's lingering close after a refused body
// depends on it (without it the client sees a reset, late).
func TestCloseWriteReachesTheClient(t *testing.T) {
	l := New(4)
	ln := listen(t, l)
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Close() }()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = server.Close() }()
	cw, ok := server.(interface{ CloseWrite() error })
	if !ok {
		t.Fatal("the limited connection has no CloseWrite")
	}
	if err := cw.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := client.Read(make([]byte, 1)); n != 0 || err == nil || err.Error() != "EOF" {
		t.Fatalf("client read %d, %v; want EOF", n, err)
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatalf("the server's read side closed too: %v", err)
	}
	if l.Open() != 1 {
		t.Fatalf("open = %d after a half close, want 1 (the slot is held until Close)", l.Open())
	}
}
