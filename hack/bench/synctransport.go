package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// syncTransport is the open-loop generator's HTTP/1.1 client: each request is
// written (Request.Write) and its response read (http.ReadResponse) on the
// calling goroutine over a pooled keep-alive connection. http.Transport's
// read and write goroutines cost the generator about twice the CPU per
// request, and the generator shares its core with the backend: with the
// stock transport, vegeta could not send half of nginx's top rate, so the
// latencies measured were the generator's own queueing (docs/benchmarks.md).
// It is load-generator code for loopback targets only.
type syncTransport struct {
	mu     sync.Mutex
	idle   map[string][]*syncConn
	dialer net.Dialer
}

type syncConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	bw   *bufio.Writer
}

func newSyncTransport() *syncTransport {
	return &syncTransport{idle: map[string][]*syncConn{}, dialer: net.Dialer{Timeout: 5 * time.Second}}
}

// RoundTrip implements http.RoundTripper.
func (t *syncTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	addr := req.URL.Host
	c, err := t.get(req.Context(), addr)
	if err != nil {
		return nil, err
	}
	deadline, ok := req.Context().Deadline()
	if !ok {
		deadline = time.Now().Add(10 * time.Second)
	}
	_ = c.c.SetDeadline(deadline)
	if err := req.Write(c.bw); err != nil {
		_ = c.c.Close()
		return nil, err
	}
	if err := c.bw.Flush(); err != nil {
		_ = c.c.Close()
		return nil, err
	}
	res, err := http.ReadResponse(c.br, req)
	if err != nil {
		_ = c.c.Close()
		return nil, err
	}
	res.Body = &syncBody{rc: res.Body, c: c, t: t, reuse: !res.Close}
	return res, nil
}

func (t *syncTransport) get(ctx context.Context, addr string) (*syncConn, error) {
	t.mu.Lock()
	if l := t.idle[addr]; len(l) > 0 {
		c := l[len(l)-1]
		t.idle[addr] = l[:len(l)-1]
		t.mu.Unlock()
		return c, nil
	}
	t.mu.Unlock()
	nc, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &syncConn{addr: addr, c: nc, br: bufio.NewReader(nc), bw: bufio.NewWriter(nc)}, nil
}

func (t *syncTransport) put(c *syncConn) {
	t.mu.Lock()
	t.idle[c.addr] = append(t.idle[c.addr], c)
	t.mu.Unlock()
}

// CloseIdleConnections closes the pooled connections.
func (t *syncTransport) CloseIdleConnections() {
	t.mu.Lock()
	all := t.idle
	t.idle = map[string][]*syncConn{}
	t.mu.Unlock()
	for _, l := range all {
		for _, c := range l {
			_ = c.c.Close()
		}
	}
}

// syncBody returns the connection to the pool once the body was read to its
// end and closed; a body closed early closes the connection.
type syncBody struct {
	rc    io.ReadCloser
	c     *syncConn
	t     *syncTransport
	eof   bool
	reuse bool
	done  bool
}

func (b *syncBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if errors.Is(err, io.EOF) {
		b.eof = true
	}
	return n, err
}

func (b *syncBody) Close() error {
	if b.done {
		return nil
	}
	b.done = true
	err := b.rc.Close()
	if b.eof && b.reuse && err == nil && b.c.br.Buffered() == 0 {
		b.t.put(b.c)
	} else {
		_ = b.c.c.Close()
	}
	return err
}
