package dataplane

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-logr/logr"
)

// Limits of the traffic listener. ReadHeaderTimeout cuts off slow-header
// (slowloris) clients; there is no whole-request ReadTimeout because bodies
// may stream for as long as the integration timeout allows.
const (
	readHeaderTimeout = 10 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
)

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
	servers := []*http.Server{s.newHTTPServer(s)}
	lns := []net.Listener{l.HTTP}
	if l.HTTPS != nil { // before health: health stops last
		hs := s.newHTTPServer(s)
		hs.ConnContext = connContext // per-connection mutual TLS check cache (domains.go)
		servers = append(servers, hs)
		lns = append(lns, tls.NewListener(l.HTTPS, s.tls.ServerConfig()))
	}
	if l.Health != nil {
		servers = append(servers, s.newHTTPServer(s.HealthHandler()))
		lns = append(lns, l.Health)
	}
	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(lns[i]) }()
	}
	s.log.Info("dataplane serving", "http", l.HTTP.Addr().String())

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

// shutdown turns readiness off, waits ShutdownDelay (when wait is set), then
// drains the traffic server and stops the health server last, so probes see
// 503 rather than a refused connection while draining.
func (s *Server) shutdown(servers []*http.Server, wait bool) error {
	s.stopping.Store(true)
	if wait && s.opts.ShutdownDelay > 0 {
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

func (s *Server) newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          log.New(logrWriter{s.log.V(1)}, "", 0),
	}
}

// logrWriter sends net/http's own error log (TLS handshakes, bad requests) to
// logr at a debug level: clients can produce these at will.
type logrWriter struct{ log logr.Logger }

func (w logrWriter) Write(p []byte) (int, error) {
	w.log.Info("http server", "error", strings.TrimSpace(string(p)))
	return len(p), nil
}
