// Package connlimit bounds the client connections a server holds open.
//
// A Limiter is shared by the listeners of one process (HTTP and HTTPS
// traffic). Each accepted connection takes a slot, released when the
// connection is closed, by whoever closes it. When a connection arrives and
// every slot is taken, the Limiter closes the connection that has been idle
// (an HTTP keep-alive connection between requests) the longest to make room;
// when none is idle, the new connection waits until a slot frees (further
// ones wait in the kernel's listen backlog), so no request in flight is ever
// cut to admit another. Connections between requests are what an attacker
// can hold most cheaply; the ones in a request are bounded by the server's
// header and body deadlines.
//
// Invariants:
//   - At most Max connections accepted through the Limiter are open at once
//     (Open() <= Max), counted from Accept to the first Close.
//   - Only a connection the server reported idle (http.StateIdle through
//     Track) is ever closed by the Limiter.
//   - A connection the server hands over (http.StateHijacked: an upgraded
//     WebSocket connection) leaves the HTTP connection budget at once: it is
//     no longer an HTTP connection, and the WebSocket limits bound it
//     (dataplane/websocket).
package connlimit

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// Limiter hands out connection slots. The zero value is not usable: use New.
type Limiter struct {
	max int

	mu    sync.Mutex
	open  int
	idle  map[net.Conn]uint64 // idle connections (as the server sees them) and when they became idle (a sequence number)
	seq   uint64
	freed chan struct{} // closed and replaced whenever a slot frees

	reclaimed atomic.Uint64
}

// New returns a Limiter of max slots; max <= 0 means no limit.
func New(max int) *Limiter {
	return &Limiter{max: max, idle: map[net.Conn]uint64{}, freed: make(chan struct{})}
}

// Open is the number of connections holding a slot now.
func (l *Limiter) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// Reclaimed is how many idle connections were closed to admit new ones.
func (l *Limiter) Reclaimed() uint64 { return l.reclaimed.Load() }

// Track is an http.Server ConnState hook: it tells the Limiter which
// connections are idle. c is the connection the server serves (for TLS, the
// *tls.Conn over the one Accept returned; closing it closes that one).
func (l *Limiter) Track(c net.Conn, s http.ConnState) {
	if l.max <= 0 {
		return
	}
	if s == http.StateHijacked {
		if tc, ok := c.(*tls.Conn); ok {
			c = tc.NetConn()
		}
		if cc, ok := c.(*conn); ok {
			cc.once.Do(l.release)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if s == http.StateIdle {
		l.seq++
		l.idle[c] = l.seq
	} else {
		delete(l.idle, c)
	}
}

// Listener returns ln limited by l.
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	if l.max <= 0 {
		return ln
	}
	return &listener{Listener: ln, l: l}
}

type listener struct {
	net.Listener
	l *Limiter
}

// Accept accepts a connection and returns it once it holds a slot.
func (ln *listener) Accept() (net.Conn, error) {
	c, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		got, wait, oldest := ln.l.take()
		if got {
			return &conn{Conn: c, l: ln.l}, nil
		}
		if oldest != nil {
			ln.l.reclaimed.Add(1)
			_ = oldest.Close() // frees its slot
			continue
		}
		<-wait
	}
}

// take takes a slot, or returns the oldest idle connection to close, or a
// channel closed when a slot frees.
func (l *Limiter) take() (got bool, wait <-chan struct{}, oldest net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open < l.max {
		l.open++
		return true, nil, nil
	}
	var at uint64
	for c, s := range l.idle {
		if oldest == nil || s < at {
			oldest, at = c, s
		}
	}
	if oldest != nil {
		delete(l.idle, oldest) // closed once, by the caller
	}
	return false, l.freed, oldest
}

func (l *Limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	close(l.freed)
	l.freed = make(chan struct{})
}

// conn releases its slot on the first Close.
type conn struct {
	net.Conn
	l    *Limiter
	once sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.l.release)
	return err
}

// CloseWrite half-closes the connection when the underlying one can (a TCP
// connection can). net/http relies on it after an answer to a request whose
// body it gave up on (a malformed or over-limit body): it sends FIN, so the
// client sees the end of the stream at once, then lingers before closing,
// so unread client bytes do not turn the answer into a reset. Without it the
// client sees nothing for the lingering time, then a reset.
func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
