package proxy

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// connPool keeps idle HTTP/1.1 connections to plain-HTTP backends for the
// direct path (direct.go), keyed by "ip:port" (or "host:port").
//
// Invariants:
//   - A connection is in the pool only between two exchanges, with nothing
//     left in its read buffer; taking it out is exclusive (one request at a
//     time per connection: no pipelining).
//   - Before reuse, a connection that has become readable while idle (the
//     backend closed it, or sent bytes nobody asked for) is discarded, so an
//     unsolicited response can never be read as the answer to the next
//     request.
//   - Connections idle longer than idleTimeout are closed by a sweep that is
//     armed only while the pool holds something (no goroutine per pool).
//   - Every connection is dialed through the Forwarder's dialer, hence the
//     egress guard.
type connPool struct {
	dialer      *net.Dialer
	maxPerHost  int
	idleTimeout time.Duration

	mu    sync.Mutex
	idle  map[string][]*backendConn
	swept bool // a sweep is armed
}

func newConnPool(d *net.Dialer, maxPerHost int, idleTimeout time.Duration) *connPool {
	return &connPool{dialer: d, maxPerHost: maxPerHost, idleTimeout: idleTimeout, idle: map[string][]*backendConn{}}
}

// maxResponseHeaderBytes bounds a backend's status line and headers (plus
// one read buffer), like the server's own request header limit.
const maxResponseHeaderBytes = 1 << 20

// backendConn is one connection with its buffers. lc limits how much the
// response-header parser may read (see limitHeaders).
type backendConn struct {
	addr      string
	conn      net.Conn
	raw       syscall.RawConn // nil when the connection has none (tests)
	lc        limitedConn
	br        *bufio.Reader
	bw        *bufio.Writer
	idleSince time.Time
	reused    bool

	// peek and interruptFn are built once per connection (a method value
	// per request would allocate).
	peek        func(fd uintptr) bool
	peekStale   bool
	interruptFn func()
}

// limitedConn reads from the connection and counts the bytes; while limit is
// positive, reads beyond it fail (a backend sending endless headers).
type limitedConn struct {
	c     net.Conn
	limit int64 // bytes still allowed; < 0 means no limit
	total int64 // bytes read over the connection's life
}

var errHeadersTooLarge = errors.New("backend response headers exceed 1 MiB")

// Read implements io.Reader.
func (l *limitedConn) Read(p []byte) (int, error) {
	if l.limit == 0 {
		return 0, errHeadersTooLarge
	}
	if l.limit > 0 && int64(len(p)) > l.limit {
		p = p[:l.limit]
	}
	n, err := l.c.Read(p)
	l.total += int64(n)
	if l.limit > 0 {
		l.limit -= int64(n)
	}
	return n, err
}

// limitHeaders starts a response: the parser may read at most the header
// limit (plus one buffer of body bytes that arrive with it).
func (b *backendConn) limitHeaders() { b.lc.limit = maxResponseHeaderBytes + int64(b.br.Size()) }

// unlimit lifts the limit once the headers are parsed (bodies are streamed).
func (b *backendConn) unlimit() { b.lc.limit = -1 }

// get returns an idle connection to addr, or dials one (b.reused tells
// which), with its deadline set for this exchange. The deadline is set
// before the staleness check: a pooled connection still carries the
// previous exchange's deadline, long past for one idle longer than that
// exchange's timeout, and a read past its deadline fails without peeking.
func (p *connPool) get(ctx context.Context, addr string, deadline time.Time) (*backendConn, error) {
	for {
		b := p.pop(addr)
		if b == nil {
			break
		}
		if time.Since(b.idleSince) < p.idleTimeout && b.conn.SetDeadline(deadline) == nil && !b.stale() {
			b.reused = true
			return b, nil
		}
		_ = b.conn.Close()
	}
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	c, err := p.dialer.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := c.SetDeadline(deadline); err != nil {
		_ = c.Close()
		return nil, err
	}
	return newBackendConn(addr, c), nil
}

func newBackendConn(addr string, c net.Conn) *backendConn {
	b := &backendConn{addr: addr, conn: c}
	b.lc = limitedConn{c: c, limit: -1}
	b.br = bufio.NewReaderSize(&b.lc, 4<<10)
	b.bw = bufio.NewWriterSize(c, 4<<10)
	b.interruptFn = b.interrupt
	if sc, ok := c.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			b.raw = raw
			b.peek = b.peekFD
		}
	}
	return b
}

func (p *connPool) pop(addr string) *backendConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	list := p.idle[addr]
	n := len(list)
	if n == 0 {
		return nil
	}
	b := list[n-1] // most recently used first: it is the least likely to be closed
	list[n-1] = nil
	if n == 1 {
		delete(p.idle, addr)
	} else {
		p.idle[addr] = list[:n-1]
	}
	return b
}

// put returns b to the pool after a complete exchange, or closes it when the
// host already has maxPerHost idle connections.
func (p *connPool) put(b *backendConn) {
	b.idleSince = time.Now()
	p.mu.Lock()
	list := p.idle[b.addr]
	if len(list) >= p.maxPerHost {
		p.mu.Unlock()
		_ = b.conn.Close()
		return
	}
	p.idle[b.addr] = append(list, b)
	arm := !p.swept
	p.swept = true
	p.mu.Unlock()
	if arm {
		time.AfterFunc(p.idleTimeout, p.sweep)
	}
}

// sweep closes connections idle for longer than idleTimeout and re-arms
// itself while anything is left.
func (p *connPool) sweep() {
	cutoff := time.Now().Add(-p.idleTimeout)
	var stale []*backendConn
	p.mu.Lock()
	for addr, list := range p.idle {
		keep := list[:0]
		for _, b := range list {
			if b.idleSince.Before(cutoff) {
				stale = append(stale, b)
			} else {
				keep = append(keep, b)
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(p.idle, addr)
		} else {
			p.idle[addr] = keep
		}
	}
	p.swept = len(p.idle) > 0
	p.mu.Unlock()
	for _, b := range stale {
		_ = b.conn.Close()
	}
	if p.swept {
		time.AfterFunc(p.idleTimeout/2, p.sweep)
	}
}

// closeIdle closes every idle connection.
func (p *connPool) closeIdle() {
	p.mu.Lock()
	all := p.idle
	p.idle = map[string][]*backendConn{}
	p.mu.Unlock()
	for _, list := range all {
		for _, b := range list {
			_ = b.conn.Close()
		}
	}
}

// stale reports whether an idle connection became readable: end of stream
// (the backend closed it) or bytes that answer no request of ours. It peeks
// without blocking and without consuming (MSG_PEEK|MSG_DONTWAIT).
func (b *backendConn) stale() bool {
	if b.br.Buffered() > 0 {
		return true
	}
	if b.raw == nil {
		return false
	}
	b.peekStale = false
	if err := b.raw.Read(b.peek); err != nil {
		return true
	}
	return b.peekStale
}

// discard closes b; its buffers go with it.
func (b *backendConn) discard() { _ = b.conn.Close() }

// drained reports whether b may carry another exchange: nothing is left in
// its read buffer (a backend that sent more than its response is not reused).
func (b *backendConn) drained() bool { return b.br.Buffered() == 0 }

var _ io.Reader = (*limitedConn)(nil)
