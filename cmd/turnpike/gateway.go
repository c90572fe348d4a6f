package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/throttle"
	"github.com/turnpike-io/turnpike/dataplane/tracing"
	"github.com/turnpike-io/turnpike/dataplane/upstream"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// gateway is what both modes share: the dataplane server, the Prometheus
// registry served on --metrics-addr and the admin listener.
type gateway struct {
	flags *commonFlags
	log   logr.Logger
	dp    *dataplane.Server
	reg   *prometheus.Registry
	// tracing is nil unless OTEL_* asks for traces; flushed when run returns.
	tracing *tracing.Tracer
	// redis is the shared limiter of --redis-url (nil: per-replica limits);
	// initErr is its construction error, returned by run.
	redis   *throttle.Redis
	initErr error
	// denyEgress is the effective egress deny list (the translator reports
	// Routes whose uri can only hit it).
	denyEgress []netip.Prefix
	// warnings, when set before run, lists what /readyz shows after "ok"
	// (serve mode: a status writer that cannot write).
	warnings func() []string
}

// linkLocal are the ranges of cloud metadata services.
var linkLocal = []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16"), netip.MustParsePrefix("fe80::/10")}

// effectiveDenyEgress is --deny-egress-cidrs (or the mode's default) plus
// the link-local ranges unless --allow-link-local-egress: an empty or short
// --deny-egress-cidrs never opens the metadata service by accident.
func effectiveDenyEgress(f *commonFlags, serveMode bool) []netip.Prefix {
	deny := slices.Clone([]netip.Prefix(f.denyEgress))
	if !f.denyEgressSet {
		deny = upstream.DefaultDenyEgress(serveMode)
	}
	if f.allowLinkLocal {
		return slices.DeleteFunc(deny, func(p netip.Prefix) bool { return slices.Contains(linkLocal, p) })
	}
	for _, ll := range linkLocal {
		if !slices.ContainsFunc(deny, func(p netip.Prefix) bool { return p.Bits() <= ll.Bits() && p.Contains(ll.Addr()) }) {
			deny = append(deny, ll)
		}
	}
	return deny
}

// newGateway assembles the dataplane of f; peers lists the other replicas
// (nil: none) and advertise is the address they reach this one at.
func newGateway(f *commonFlags, serveMode bool, log logr.Logger, accessLog io.Writer, peers websocket.Peers, advertise string) *gateway {
	deny := effectiveDenyEgress(f, serveMode)
	if f.allowLinkLocal {
		log.Info("WARNING: --allow-link-local-egress: integrations may reach cloud metadata services (169.254.169.254)")
	}
	denied := prefixList(deny)
	log.Info("egress guard", "denied", denied.String(), "fromFlag", f.denyEgressSet)
	reg := prometheus.NewRegistry()
	tr, err := tracing.FromEnv(context.Background())
	if err != nil {
		log.Error(err, "OpenTelemetry tracing misconfigured; running without traces")
	} else if tr != nil {
		log.Info("OpenTelemetry tracing on (OTLP/HTTP)")
	}
	g := &gateway{flags: f, log: log, reg: reg, tracing: tr, denyEgress: deny}
	var limiter throttle.Limiter
	if f.redisURL != "" {
		g.redis, g.initErr = throttle.NewRedis(throttle.RedisOptions{URL: f.redisURL, FailClosed: f.redisFailMode == "closed", Metrics: reg})
		if g.initErr == nil {
			limiter = g.redis
		}
	}
	g.dp = dataplane.NewServer(dataplane.Options{
		HTTPAddr:       f.httpAddr,
		HTTPSAddr:      f.httpsAddr,
		HealthAddr:     f.healthAddr,
		ShutdownDelay:  f.shutdownDelay,
		DrainTimeout:   f.drainTimeout,
		Logger:         log.WithName("dataplane"),
		AccessLog:      accessLog,
		DenyEgress:     deny,
		TrustedProxies: f.trustedProxies,
		AllowHTTPJWKS:  f.allowHTTPJWKS,
		FunctionQueue:  f.functionQueue,
		Limits:         f.limits.limits(),
		Metrics:        reg,
		Tracing:        tr,
		Limiter:        limiter,
		Warnings: func() []string {
			if g.warnings == nil {
				return nil
			}
			return g.warnings()
		},
		WebSocket: websocket.Options{
			Limits: websocket.Limits{
				MaxFrameBytes: f.ws.maxFrameBytes, MaxMessageBytes: f.ws.maxMessageBytes,
				IdleTimeout: f.ws.idleTimeout, MaxLifetime: f.ws.maxLifetime,
			},
			Advertise: advertise,
			Peers:     peers,
		},

		GatewayThrottle: table.Throttle{RateLimit: int32(f.rateLimit), BurstLimit: int32(f.burstLimit)},
	})
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return g
}

// translateOptions are the translator's view of this gateway: the flags
// that decide what its replicas serve.
func (g *gateway) translateOptions() translate.Options {
	return translate.Options{
		DefaultDomain:   g.flags.defaultDomain,
		SharedLimits:    g.flags.redisURL != "",
		NoHTTPSListener: g.flags.httpsAddr == "",
		DenyEgress:      g.denyEgress,
	}
}

// run serves the dataplane, metrics and admin listeners until ctx is done
// and the dataplane has drained, while source feeds tables. A failing source
// stops the process; the dataplane's own shutdown sequence (readiness off,
// shutdown delay, drain) runs either way.
func (g *gateway) run(ctx context.Context, source func(context.Context) error) error {
	if g.initErr != nil {
		return g.initErr
	}
	if g.redis != nil {
		defer g.redis.Close()
	}
	aux, err := g.auxServers()
	if err != nil {
		return err
	}
	defer func() {
		for _, s := range aux {
			_ = s.Close()
		}
	}()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srcErr := make(chan error, 1)
	go func() {
		err := source(ctx)
		if err != nil && ctx.Err() == nil {
			g.log.Error(err, "configuration source failed; shutting down")
		}
		srcErr <- err
		cancel()
	}()
	dpErr := g.dp.Run(ctx, dataplane.Listeners{})
	cancel()
	g.flushTraces()
	if err := <-srcErr; err != nil && !errors.Is(err, context.Canceled) {
		return errors.Join(err, dpErr)
	}
	return dpErr
}

// flushTraces exports the spans still queued, waiting at most 5 seconds.
func (g *gateway) flushTraces() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.tracing.Shutdown(ctx); err != nil {
		g.log.Error(err, "flushing traces")
	}
}

// auxServers starts the metrics and admin listeners (not the health listener,
// which the dataplane serves so readiness follows its shutdown).
func (g *gateway) auxServers() ([]*http.Server, error) {
	metrics := http.NewServeMux()
	metrics.Handle("/metrics", promhttp.HandlerFor(g.reg, promhttp.HandlerOpts{Registry: g.reg}))
	// The admin listener (table, usage, pprof) is loopback by default and
	// must never be exposed.
	admin := g.dp.AdminHandler()
	var servers []*http.Server
	for _, l := range []struct {
		addr string
		h    http.Handler
	}{{g.flags.metricsAddr, metrics}, {g.flags.adminAddr, admin}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			for _, s := range servers {
				_ = s.Close()
			}
			return nil, fmt.Errorf("listen on %s: %w", l.addr, err)
		}
		srv := &http.Server{Handler: l.h, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = srv.Serve(ln) }()
		servers = append(servers, srv)
	}
	return servers, nil
}

// advertiseAddress is the address other replicas reach this one's HTTP
// listener at: --websocket-advertise-address, else podIP (serve mode's
// $POD_IP) with the --http-addr port, else the --http-addr when it names a
// host; "" when none is known (connection ids then name no reachable
// replica, which is right for a single one).
func advertiseAddress(f *commonFlags, podIP string) string {
	if f.ws.advertise != "" {
		return f.ws.advertise
	}
	host, port, err := net.SplitHostPort(f.httpAddr)
	switch {
	case err != nil:
		return ""
	case podIP != "":
		return net.JoinHostPort(podIP, port)
	case host != "" && host != "0.0.0.0" && host != "::":
		return f.httpAddr
	}
	return ""
}
