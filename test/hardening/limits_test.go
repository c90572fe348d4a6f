package hardening

import (
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memoryCeiling is the most resident memory (peak, VmHWM) the gateway may
// reach under any single attack of this file. At rest it holds about 30 MiB.
const memoryCeiling = 200 << 20

// checkMemory fails the test when the gateway's peak memory passed the
// ceiling, and logs the figure.
func (e *env) checkMemory(t *testing.T, what string) {
	t.Helper()
	rss, peak, err := e.gw.Memory()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: gateway memory now %d MiB, peak %d MiB (ceiling %d MiB)", what, rss>>20, peak>>20, memoryCeiling>>20)
	if peak > memoryCeiling {
		t.Errorf("%s: peak memory %d MiB is over the ceiling of %d MiB", what, peak>>20, memoryCeiling>>20)
	}
}

// goroutines samples go_goroutines every 50 ms until stop is closed and
// returns the highest value seen.
func (e *env) goroutines(t *testing.T, stop <-chan struct{}) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		peak := 0.0
		for {
			if v, err := e.gw.Metric("go_goroutines"); err == nil && v > peak {
				peak = v
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return out
}

// TestSlowHeadersAreCutOffAtTheHeaderTimeout opens 200 connections that
// send a request's headers one byte every 200 ms (slowloris): each is
// closed at --read-header-timeout (1 s here) and a normal request is
// served meanwhile.
func TestSlowHeadersAreCutOffAtTheHeaderTimeout(t *testing.T) {
	e := start(t, "", "--read-header-timeout=1s")
	const n = 200
	start := time.Now()
	var worst atomic.Int64
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			c, err := net.Dial("tcp", e.gw.HTTP)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			head := "GET /prod/direct/x HTTP/1.1\r\nHost: " + host + "\r\nX-Slow: " + strings.Repeat("a", 100)
			closed := make(chan struct{})
			go func() {
				for i := 0; i < len(head); i++ {
					select {
					case <-closed:
						return
					case <-time.After(200 * time.Millisecond):
					}
					if _, err := c.Write([]byte{head[i]}); err != nil {
						return
					}
				}
			}()
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, _ = io.Copy(io.Discard, c)
			close(closed)
			d := time.Since(start).Milliseconds()
			for old := worst.Load(); d > old && !worst.CompareAndSwap(old, d); old = worst.Load() {
			}
		})
	}
	time.Sleep(300 * time.Millisecond)
	conn := dialRaw(t, e.gw.HTTP)
	conn.send(t, get("/prod/direct/ok"))
	if res, err := conn.read(5*time.Second, "GET"); err != nil || res.status != 200 {
		t.Fatalf("a normal request during the attack: %d %v", res.status, err)
	}
	wg.Wait()
	t.Logf("slowloris headers: %d connections, all closed within %d ms (header timeout 1 s)", n, worst.Load())
	if w := time.Duration(worst.Load()) * time.Millisecond; w > 3*time.Second {
		t.Errorf("slow-header connections were closed after %v, want about 1 s", w)
	}
	e.checkMemory(t, "slowloris headers")
}

// TestSlowBodiesAreCutOff sends request bodies one byte every 500 ms: a
// forwarded body must arrive within the integration timeout (5 s in the
// fixture) or the client gets 408 and loses the connection, on both
// forwarding paths; the unread body of a refused request is waited for at
// most 1 s (net/http reads it before sending the answer, to keep the
// connection), then the answer goes out and the connection closes.
func TestSlowBodiesAreCutOff(t *testing.T) {
	e := start(t, "")
	cases := []struct {
		name, head string
		status     int
	}{
		{"small body, direct path", "POST /prod/direct/c HTTP/1.1\r\nHost: H\r\nContent-Length: 100\r\n\r\n", 408},
		{"large body, ReverseProxy path", "POST /prod/direct/c HTTP/1.1\r\nHost: H\r\nContent-Length: 100000\r\n\r\n", 408},
		{"chunked body, HTTPS backend", "POST /prod/rp/c HTTP/1.1\r\nHost: H\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n", 408},
		{"refused request (no route)", "POST /prod/nowhere HTTP/1.1\r\nHost: H\r\nContent-Length: 100000\r\n\r\n", 404},
	}
	const perCase = 25
	var wg sync.WaitGroup
	type result struct {
		status         int
		answer, closed time.Duration
	}
	results := make([][]result, len(cases))
	for i, c := range cases {
		results[i] = make([]result, perCase)
		for j := range perCase {
			wg.Go(func() {
				start := time.Now()
				conn := dialRaw(t, e.gw.HTTP)
				conn.send(t, strings.ReplaceAll(c.head, "H\r\n", host+"\r\n"))
				done := make(chan struct{})
				go func() { // the slow body
					for {
						select {
						case <-done:
							return
						case <-time.After(500 * time.Millisecond):
							if _, err := conn.c.Write([]byte("a")); err != nil {
								return
							}
						}
					}
				}()
				res, err := conn.read(15*time.Second, "POST")
				r := result{status: res.status, answer: time.Since(start)}
				if err == nil && conn.closed(10*time.Second) {
					r.closed = time.Since(start)
				}
				close(done)
				results[i][j] = r
			})
		}
	}
	wg.Wait()
	for i, c := range cases {
		var worstAnswer, worstClose time.Duration
		for _, r := range results[i] {
			if r.status != c.status || r.closed == 0 {
				t.Errorf("%s: status %d after %v, closed after %v; want %d and the connection closed", c.name, r.status, r.answer, r.closed, c.status)
			}
			worstAnswer, worstClose = max(worstAnswer, r.answer), max(worstClose, r.closed)
		}
		t.Logf("slow body, %s: %d connections answered %d within %v, closed within %v", c.name, perCase, c.status, worstAnswer.Round(time.Millisecond), worstClose.Round(time.Millisecond))
		limit := 7 * time.Second // the integration timeout of 5 s, and scheduling slack
		if c.status == 404 {
			limit = 3 * time.Second // the drain bound of 1 s
		}
		if worstClose > limit {
			t.Errorf("%s: a connection stayed open %v, want under %v", c.name, worstClose, limit)
		}
	}
	if n := e.metric(t, "turnpike_upstream_errors_total"); n != 0 {
		t.Errorf("turnpike_upstream_errors_total = %v: late client bodies counted as integration errors", n)
	}
	e.checkMemory(t, "slow bodies")
}

// TestHeaderFloodsAre431 proves that request headers over --max-header-bytes
// (64 KiB by default) are answered 431, as one huge header or as thousands
// of small ones, as are more than 500 header lines (net/http's limit since
// Go 1.27, DefaultMaxHeaderValueCount), while a large header set under both
// limits is served and forwarded whole.
func TestHeaderFloodsAre431(t *testing.T) {
	e := start(t, "")
	many := func(n, size int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "X-H%d: %s\r\n", i, strings.Repeat("v", size))
		}
		return b.String()
	}
	cases := []struct {
		name, headers string
		status        int
		forwarded     int // headers named X-H* the backend must get
	}{
		{"one 70 KiB header", "X-Big: " + strings.Repeat("a", 70<<10) + "\r\n", 431, 0},
		{"10,000 small headers (about 100 KiB)", many(10000, 1), 431, 0},
		{"600 small headers (over 500 header lines)", many(600, 1), 431, 0},
		{"450 headers of 120 bytes (about 57 KiB) are served", many(450, 120), 200, 450},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := dialRaw(t, e.gw.HTTP)
			conn.send(t, "GET /prod/direct/h HTTP/1.1\r\nHost: "+host+"\r\n"+c.headers+"\r\n")
			res, err := conn.read(10*time.Second, "GET")
			// Refusing, the server closes with the rest of the headers
			// unread, so the kernel may reset the connection after the 431.
			if res.status != c.status || (err != nil && c.status != 431) {
				t.Fatalf("got %d %v, want %d", res.status, err, c.status)
			}
			got := e.plain.take()
			n := 0
			for _, r := range got {
				for k := range r.Header {
					if strings.HasPrefix(k, "X-H") {
						n++
					}
				}
			}
			if n != c.forwarded {
				t.Fatalf("backend got %d X-H* headers, want %d", n, c.forwarded)
			}
		})
	}
	e.checkMemory(t, "header floods")
}

// TestIdleConnectionsAreBoundedByMaxConnections opens 400 keep-alive
// connections, one request each, against --max-connections=64: every
// request is served (the longest-idle connections are closed to admit new
// ones), at most 64 stay open, and the gateway holds no more sockets than
// that. Then 64 connections stuck in their headers hold every slot: a new
// client waits for the header timeout to free one, and is served.
func TestIdleConnectionsAreBoundedByMaxConnections(t *testing.T) {
	e := start(t, "", "--max-connections=64", "--read-header-timeout=2s")
	const n = 400
	conns := make([]*rawConn, 0, n)
	for i := range n {
		c := dialRaw(t, e.gw.HTTP)
		c.send(t, get(fmt.Sprintf("/prod/direct/idle%d", i)))
		if res, err := c.read(10*time.Second, "GET"); err != nil || res.status != 200 {
			t.Fatalf("connection %d: %d %v", i, res.status, err)
		}
		conns = append(conns, c)
	}
	time.Sleep(200 * time.Millisecond)
	open := 0
	for _, c := range conns {
		if !c.closed(10 * time.Millisecond) {
			open++
		}
	}
	// A socket the gateway just closed can still read ESTABLISHED for a
	// moment (the close completes once its reader returns): a socket over
	// the bound must last a second to count.
	sockets := e.clientSockets(t)
	for i := 0; i < 10 && sockets > 64; i++ {
		time.Sleep(100 * time.Millisecond)
		sockets = e.clientSockets(t)
	}
	t.Logf("idle keep-alive: %d connections opened one after another, %d still open, gateway holds %d client sockets (--max-connections=64)", n, open, sockets)
	if open > 64 || sockets > 64 {
		t.Errorf("%d client connections open (gateway: %d), want at most 64", open, sockets)
	}
	e.checkMemory(t, "idle connections")

	for _, c := range conns {
		_ = c.c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	for range 64 { // every slot held by a connection in its headers
		c := dialRaw(t, e.gw.HTTP)
		c.send(t, "GET /prod/direct/slow HTTP/1.1\r\n")
	}
	time.Sleep(200 * time.Millisecond)
	started := time.Now()
	c := dialRaw(t, e.gw.HTTP)
	c.send(t, get("/prod/direct/waited"))
	res, err := c.read(10*time.Second, "GET")
	if err != nil || res.status != 200 {
		t.Fatalf("a new client while every slot is held: %d %v", res.status, err)
	}
	t.Logf("with every slot held mid-headers, a new client was served after %v (header timeout 2 s)", time.Since(started).Round(time.Millisecond))
}
