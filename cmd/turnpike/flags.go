package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// commonFlags are the flags both modes share (api.md, "Gateway process").
type commonFlags struct {
	httpAddr       string
	httpsAddr      string
	metricsAddr    string
	healthAddr     string
	adminAddr      string
	defaultDomain  string
	trustedProxies prefixList
	denyEgress     prefixList
	denyEgressSet  bool
	// allowLinkLocal lets integrations dial link-local addresses (cloud
	// metadata services), which stay denied whatever --deny-egress-cidrs says.
	allowLinkLocal bool
	shutdownDelay  time.Duration
	drainTimeout   time.Duration
	logFormat      string
	allowHTTPJWKS  bool
	rateLimit      int
	burstLimit     int
	redisURL       string
	redisFailMode  string
	functionQueue  int
	limits         limitFlags
	ws             websocketFlags
}

// websocketFlags are the flags of WEBSOCKET Apis (both modes).
type websocketFlags struct {
	maxFrameBytes   int64
	maxMessageBytes int64
	idleTimeout     time.Duration
	maxLifetime     time.Duration
	advertise       string
}

// serveFlags are the flags of `turnpike serve`.
type serveFlags struct {
	commonFlags
	kubeconfig     string
	leaderElect    bool
	namespace      string
	leaseNamespace string
	kubeAPIQPS     float64
	kubeAPIBurst   int
}

// standaloneFlags are the flags of `turnpike standalone`.
type standaloneFlags struct {
	commonFlags
	dir   string
	peers stringList
}

// stringList is a comma-separated list of strings.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

func (c *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.httpAddr, "http-addr", ":8080", "address of the HTTP listener")
	fs.StringVar(&c.httpsAddr, "https-addr", ":8443", "address of the HTTPS listener for custom domains (empty: none)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", ":9090", "address of the Prometheus /metrics listener")
	fs.StringVar(&c.healthAddr, "health-addr", ":8081", "address of the /healthz and /readyz listener")
	fs.StringVar(&c.adminAddr, "admin-addr", "127.0.0.1:8082", "address of the admin listener (never expose it)")
	fs.StringVar(&c.defaultDomain, "default-domain", "execute-api.localhost", "an Api's default endpoint is {api}.{namespace}.{default-domain}")
	fs.Var(&c.trustedProxies, "trusted-proxies", "comma-separated CIDRs whose X-Forwarded-* headers are believed")
	fs.Func("deny-egress-cidrs", "comma-separated CIDRs integrations and authorizers may not dial; it replaces the default "+
		"(link-local, plus loopback and unspecified addresses in serve mode), so list those too. "+
		"Link-local stays denied unless --allow-link-local-egress. The effective list is logged at start", func(s string) error {
		c.denyEgressSet = true
		return c.denyEgress.Set(s)
	})
	fs.BoolVar(&c.allowLinkLocal, "allow-link-local-egress", false,
		"let integrations dial link-local addresses (169.254.0.0/16, fe80::/10: cloud metadata services), which are denied otherwise")
	fs.DurationVar(&c.shutdownDelay, "shutdown-delay", 5*time.Second, "on SIGTERM, keep serving this long after readiness turns false")
	fs.DurationVar(&c.drainTimeout, "drain-timeout", 30*time.Second, "on SIGTERM, how long in-flight requests may take to finish")
	fs.StringVar(&c.logFormat, "log-format", "json", "log format: json or text")
	fs.IntVar(&c.rateLimit, "rate-limit", 10000, "gateway-wide token bucket rate in requests per second, per replica")
	fs.IntVar(&c.burstLimit, "burst-limit", 5000, "gateway-wide token bucket size, per replica")
	fs.StringVar(&c.redisURL, "redis-url", os.Getenv("TURNPIKE_REDIS_URL"),
		"redis:// or rediss:// URL of the Redis that shares stage, route and plan buckets and quotas between replicas (default $TURNPIKE_REDIS_URL; empty: per replica)")
	fs.StringVar(&c.redisFailMode, "redis-failure-mode", "open", "when Redis fails: open (serve and count turnpike_ratelimit_store_errors_total) or closed (503, never 429)")
	c.limits.register(fs)
	fs.BoolVar(&c.allowHTTPJWKS, "allow-http-jwks", false, "let JWT authorizers fetch keys over http:// from loopback hosts (tests, local development)")
	fs.Int64Var(&c.ws.maxFrameBytes, "websocket-max-frame-bytes", 32<<10, "WebSocket: a larger frame closes the connection with 1009")
	fs.Int64Var(&c.ws.maxMessageBytes, "websocket-max-message-bytes", 128<<10, "WebSocket: a larger message (or @connections POST) closes the connection with 1009 (413 for the POST)")
	fs.DurationVar(&c.ws.idleTimeout, "websocket-idle-timeout", 10*time.Minute, "WebSocket: close a connection whose client sent nothing for this long")
	fs.DurationVar(&c.ws.maxLifetime, "websocket-max-lifetime", 2*time.Hour, "WebSocket: close any connection this old")
	fs.StringVar(&c.ws.advertise, "websocket-advertise-address", "",
		"host:port at which other replicas reach this one's --http-addr for @connections forwarding (default: $POD_IP and the --http-addr port in serve mode; the --http-addr itself in standalone mode when it names a host)")
	fs.IntVar(&c.functionQueue, "function-queue-length", 1000, "invocations that may wait for a free endpoint per function (FUNCTION integrations, Lambda authorizers); more get 429")
}

func (c *commonFlags) validate() error {
	if c.logFormat != "json" && c.logFormat != "text" {
		return fmt.Errorf("--log-format must be json or text, not %q", c.logFormat)
	}
	if c.defaultDomain == "" || strings.ContainsAny(c.defaultDomain, "/: ") {
		return fmt.Errorf("--default-domain %q is not a domain name", c.defaultDomain)
	}
	if c.rateLimit < 1 || c.rateLimit > 1_000_000 || c.burstLimit < 1 || c.burstLimit > 1_000_000 {
		return errors.New("--rate-limit and --burst-limit must be between 1 and 1000000")
	}
	if c.functionQueue < 1 || c.functionQueue > 1_000_000 {
		return errors.New("--function-queue-length must be between 1 and 1000000")
	}
	if err := c.validateRedis(); err != nil {
		return err
	}
	if c.shutdownDelay < 0 || c.drainTimeout < 0 {
		return errors.New("--shutdown-delay and --drain-timeout must not be negative")
	}
	if err := c.limits.validate(); err != nil {
		return err
	}
	return c.ws.validate()
}

func (w *websocketFlags) validate() error {
	if w.maxFrameBytes < 1 || w.maxMessageBytes < w.maxFrameBytes || w.maxMessageBytes > 16<<20 {
		return errors.New("--websocket-max-frame-bytes must be at least 1 and --websocket-max-message-bytes between it and 16 MiB")
	}
	if w.idleTimeout <= 0 || w.maxLifetime <= 0 {
		return errors.New("--websocket-idle-timeout and --websocket-max-lifetime must be positive")
	}
	if w.advertise != "" {
		if _, _, err := net.SplitHostPort(w.advertise); err != nil {
			return fmt.Errorf("--websocket-advertise-address %q is not host:port", w.advertise)
		}
	}
	return nil
}

// validateRedis checks --redis-url (scheme and syntax, without connecting:
// a Redis that is down at start is a failing store, not a startup error) and
// --redis-failure-mode.
func (c *commonFlags) validateRedis() error {
	if c.redisFailMode != "open" && c.redisFailMode != "closed" {
		return fmt.Errorf("--redis-failure-mode must be open or closed, not %q", c.redisFailMode)
	}
	if c.redisURL == "" {
		return nil
	}
	if !strings.HasPrefix(c.redisURL, "redis://") && !strings.HasPrefix(c.redisURL, "rediss://") {
		return errors.New("--redis-url must start with redis:// or rediss://")
	}
	if _, err := redis.ParseURL(c.redisURL); err != nil {
		// the error may quote the URL; never print its password
		return errors.New("--redis-url is not a valid Redis URL")
	}
	return nil
}

// prefixList is a comma-separated list of CIDRs (a bare address is a /32 or /128).
type prefixList []netip.Prefix

func (p *prefixList) String() string {
	s := make([]string, len(*p))
	for i, x := range *p {
		s[i] = x.String()
	}
	return strings.Join(s, ",")
}

func (p *prefixList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		pre, err := parsePrefix(part)
		if err != nil {
			return err
		}
		*p = append(*p, pre)
	}
	return nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		pre, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR: %w", s, err)
		}
		return pre.Masked(), nil
	}
	addr, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR: %w", s, err)
	}
	return netip.PrefixFrom(addr, addr.BitLen()), nil
}

func parseServeFlags(args []string) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("turnpike serve", flag.ContinueOnError)
	f.register(fs)
	fs.StringVar(&f.kubeconfig, "kubeconfig", "", "path to a kubeconfig (default: in-cluster, then $KUBECONFIG)")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "elect one replica to write status (the dataplane always runs on every replica)")
	fs.StringVar(&f.namespace, "namespace", "", "watch only this namespace (default: all)")
	fs.StringVar(&f.leaseNamespace, "lease-namespace", "", "namespace of the status Lease (default: $POD_NAMESPACE, else turnpike-system)")
	fs.Float64Var(&f.kubeAPIQPS, "kube-api-qps", 50, "requests per second to the API server for status writes and Leases (watches are not limited); paces the first status pass over a large cluster")
	fs.IntVar(&f.kubeAPIBurst, "kube-api-burst", 100, "burst of --kube-api-qps")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.kubeAPIQPS <= 0 || f.kubeAPIBurst <= 0 {
		return nil, fmt.Errorf("--kube-api-qps and --kube-api-burst must be positive, got %v and %d", f.kubeAPIQPS, f.kubeAPIBurst)
	}
	return f, f.validate()
}

func parseStandaloneFlags(args []string) (*standaloneFlags, error) {
	f := &standaloneFlags{}
	fs := flag.NewFlagSet("turnpike standalone", flag.ContinueOnError)
	f.register(fs)
	fs.StringVar(&f.dir, "f", "", "directory of YAML files to serve (required)")
	fs.Var(&f.peers, "websocket-peers", "comma-separated host:port of the other replicas' --http-addr (their --websocket-advertise-address): @connections calls for their connections are forwarded there")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if f.dir == "" {
		return nil, errors.New("standalone needs -f DIR: the directory of YAML files to serve")
	}
	if len(f.peers) > 0 && f.ws.advertise == "" {
		if host, _, err := net.SplitHostPort(f.httpAddr); err != nil || host == "" {
			return nil, errors.New("--websocket-peers needs --websocket-advertise-address (or an --http-addr with a host): the address the peers reach this replica at")
		}
	}
	return f, f.validate()
}
