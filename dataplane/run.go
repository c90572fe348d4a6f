package dataplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/dataplane/connlimit"
)

// Limits bound what clients may hold on the traffic listeners; each has a
// flag of the same name (docs/security.md). Zero fields get the defaults.
// There is no whole-request read timeout: a request body must arrive within
// its integration's timeout (dataplane/proxy), and a response may stream
// for as long as that allows.
type Limits struct {
	// MaxConnections bounds the open client connections of the HTTP and
	// HTTPS listeners together (--max-connections); at the bound the
	// longest-idle keep-alive connection is closed to admit a new one, and
	// without an idle one new connections wait (dataplane/connlimit).
	MaxConnections int
	// ReadHeaderTimeout cuts off clients slow to send a request's headers
	// (slowloris) and TLS handshakes (--read-header-timeout).
	ReadHeaderTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle for this long
	// (--idle-timeout).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's line and headers; more is answered
	// 431 (--max-header-bytes).
	MaxHeaderBytes int
}

// Defaults of Limits.
const (
	DefaultMaxConnections    = 10000
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 64 << 10
)

// bodyDrainTimeout bounds how long the server may read the rest of a request
// body the handler did not read (a refused request's) before it answers the
// next request on the connection; a client that sends it slower loses the
// connection instead of holding it.
const bodyDrainTimeout = time.Second

func (l Limits) withDefaults() Limits {
	if l.MaxConnections == 0 {
		l.MaxConnections = DefaultMaxConnections
	}
	if l.ReadHeaderTimeout <= 0 {
		l.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if l.IdleTimeout <= 0 {
		l.IdleTimeout = DefaultIdleTimeout
	}
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	return l
}

// boundBodyDrain serves h, then bounds what net/http reads of a request
// body the handler left unread. net/http reads up to 256 KiB of it, after
// the handler returns and before the response headers go out (to reuse the
// connection), with no deadline of its own, so a refused request's slow
// body could hold the connection, and the answer, forever. After the
// handler:
//   - a body read to its end: nothing to do;
//   - a body whose read failed (late, malformed, cut short, over the limit):
//     the rest is not read at all; the connection closes after the answer;
//   - an unread body the client announced with "Expect: 100-continue": the
//     same (the client waits for a 100 Continue that never comes);
//   - any other unread rest: read for at most bodyDrainTimeout.
//
// The body the server gave the handler is put back first: the server
// recognises the Expect case only on its own body type, and the handler
// replaces it (with a MaxBytesReader, and here with watchedBody).
func boundBodyDrain(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor != 1 || r.Body == nil || r.Body == http.NoBody {
			h.ServeHTTP(w, r)
			return
		}
		body := &watchedBody{ReadCloser: r.Body}
		r.Body = body
		h.ServeHTTP(w, r)
		r.Body = body.ReadCloser
		var deadline time.Time
		_, expects := r.Header["Expect"]
		switch {
		case body.eof.Load():
			return
		case body.failed.Load(), expects && !body.read.Load():
			deadline = time.Now()
		default:
			deadline = time.Now().Add(bodyDrainTimeout)
		}
		_ = http.NewResponseController(w).SetReadDeadline(deadline)
	})
}

// watchedBody records how reading a request body went. Reads may happen on
// another goroutine (the transport's), hence the atomics.
type watchedBody struct {
	io.ReadCloser
	read, eof, failed atomic.Bool
}

func (b *watchedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.eof.Store(true)
	case err != nil:
		b.failed.Store(true)
	}
	return n, err
}

// Listeners are sockets handed to Run (tests, socket activation). A nil field
// is opened from Options (HTTPAddr, HealthAddr).
type Listeners struct {
	HTTP   net.Listener
	Health net.Listener
	// HTTPS carries TLS to custom domains (plain TCP: Run adds TLS); nil is
	// opened from Options.HTTPSAddr when that is set.
	HTTPS net.Listener
}

// Run serves traffic and health until ctx is cancelled (SIGTERM), then shuts
// down as api.md says: readiness turns false at once, listeners keep serving
// for ShutdownDelay (endpoint removal lags readiness), then stop accepting,
// and in-flight requests get up to DrainTimeout. Run returns after the access
// log is flushed; the error is nil on a clean drain.
func (s *Server) Run(ctx context.Context, l Listeners) error {
	var err error
	if l.HTTP == nil {
		if l.HTTP, err = net.Listen("tcp", s.opts.HTTPAddr); err != nil {
			return fmt.Errorf("listen on %s: %w", s.opts.HTTPAddr, err)
		}
	}
	if l.Health == nil && s.opts.HealthAddr != "" {
		if l.Health, err = net.Listen("tcp", s.opts.HealthAddr); err != nil {
			_ = l.HTTP.Close() // we opened or own it; nothing else to report
			return fmt.Errorf("listen on %s: %w", s.opts.HealthAddr, err)
		}
	}
	if l.HTTPS == nil && s.opts.HTTPSAddr != "" {
		if l.HTTPS, err = net.Listen("tcp", s.opts.HTTPSAddr); err != nil {
			_ = l.HTTP.Close()
			if l.Health != nil {
				_ = l.Health.Close()
			}
			return fmt.Errorf("listen on %s: %w", s.opts.HTTPSAddr, err)
		}
	}
	lim := s.opts.Limits.withDefaults()
	conns := connlimit.New(lim.MaxConnections)
	traffic := boundBodyDrain(s)
	servers := []*http.Server{s.newHTTPServer(traffic, lim, conns)}
	lns := []net.Listener{conns.Listener(l.HTTP)}
	if l.HTTPS != nil { // before health: health stops last
		hs := s.newHTTPServer(traffic, lim, conns)
		hs.ConnContext = connContext // per-connection mutual TLS check cache (domains.go)
		servers = append(servers, hs)
		lns = append(lns, tls.NewListener(conns.Listener(l.HTTPS), s.tls.ServerConfig()))
	}
	if l.Health != nil {
		servers = append(servers, s.newHTTPServer(s.HealthHandler(), lim, nil))
		lns = append(lns, l.Health)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(lns[i]) }()
	}
	s.log.Info("dataplane serving", "http", l.HTTP.Addr().String(), "maxConnections", lim.MaxConnections)

	var failed error
	select {
	case <-ctx.Done():
	case failed = <-errc:
		failed = fmt.Errorf("listener stopped: %w", failed)
	}
	err = s.shutdown(servers, failed == nil)
	for range len(servers) - btoi(failed != nil) {
		// Serve has returned: no goroutine outlives Run.
		if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			s.log.Error(serr, "listener stopped while shutting down")
		}
	}
	s.Close()
	return errors.Join(failed, err)
}

// shutdown turns readiness off, waits ShutdownDelay (when wait is set and
// the server ever became ready: endpoints never listed a replica that was
// not ready, so nothing routes to it), then drains the traffic server and
// stops the health server last, so probes see 503 rather than a refused
// connection while draining.
func (s *Server) shutdown(servers []*http.Server, wait bool) error {
	s.stopping.Store(true)
	if !s.swapped.Load() {
		s.log.Info("shutting down a gateway that never became ready: no shutdown delay")
	} else if wait && s.opts.ShutdownDelay > 0 {
		s.log.Info("shutting down: not ready, still serving", "delay", s.opts.ShutdownDelay)
		time.Sleep(s.opts.ShutdownDelay)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.opts.DrainTimeout)
	defer cancel()
	var errs []error
	// WebSocket connections are hijacked, so Shutdown does not see them: each
	// gets 1001 and its $disconnect runs, while the listeners drain.
	wsDone := make(chan error, 1)
	go func() { wsDone <- s.ws.Shutdown(ctx) }()
	for i, srv := range servers {
		if i == len(servers)-1 { // the last one (health, when there is one) outlives the WebSocket closes
			errs = append(errs, <-wsDone)
		}
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close() // drain deadline passed: cut the remaining connections
			errs = append(errs, fmt.Errorf("drain: %w", err))
		}
	}
	s.log.Info("dataplane stopped")
	return errors.Join(errs...)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newHTTPServer returns a server of h within lim; conns (nil for the
// health listener) learns which of its connections are idle.
func (s *Server) newHTTPServer(h http.Handler, lim Limits, conns *connlimit.Limiter) *http.Server {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: lim.ReadHeaderTimeout,
		IdleTimeout:       lim.IdleTimeout,
		MaxHeaderBytes:    lim.MaxHeaderBytes,
		ErrorLog:          log.New(logrWriter{s.log.V(1)}, "", 0),
	}
	if conns != nil {
		srv.ConnState = conns.Track
	}
	return srv
}

// logrWriter sends net/http's own error log (TLS handshakes, bad requests) to
// logr at a debug level: clients can produce these at will.
type logrWriter struct{ log logr.Logger }

func (w logrWriter) Write(p []byte) (int, error) {
	w.log.Info("http server", "error", strings.TrimSpace(string(p)))
	return len(p), nil
}
