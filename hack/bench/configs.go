package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Host names and paths the load generators use.
const (
	// apiHost is the default endpoint of the Api "bench" in namespace "bench".
	apiHost = "bench.bench.execute-api.localhost"
	// benchPath is the request path through Turnpike (stage "prod").
	benchPath = "/prod/hello"
	// apiKey is the usage-plan key of the full-chain configuration.
	apiKey = "bench-key-0123456789abcdef"
	// origin is the CORS origin the full-chain requests send (allowed).
	origin = "https://app.example.com"
)

// writeBackendConf writes an nginx config that answers every request with a
// short 200 on addr, one worker, no logs: the fast loopback backend.
func writeBackendConf(dir, addr string) (string, error) {
	body := fmt.Sprintf(`server {
    listen %s default_server reuseport backlog=4096;
    keepalive_requests 1000000;
    location / { default_type text/plain; return 200 "hello from the backend\n"; }
  }`, addr)
	return writeNginxConf(dir, "backend", body)
}

// writeProxyConf writes an nginx reverse proxy on addr to the backend with
// upstream keep-alive (HTTP/1.1, empty Connection, keepalive pool).
func writeProxyConf(dir, addr, backend string) (string, error) {
	return writeNginxConf(dir, "proxy", proxyServer(addr, backend, "", `proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
      proxy_buffering on;`))
}

// proxyServer is the http-block text of an nginx reverse proxy on addr to
// backend with upstream keep-alive: before goes ahead of the upstream (e.g.
// proxy_cache_path), location adds directives to "location /".
func proxyServer(addr, backend, before, location string) string {
	return fmt.Sprintf(`%s
  upstream backend {
    server %s;
    keepalive 64;
    keepalive_requests 1000000;
  }
  server {
    listen %s default_server reuseport backlog=4096;
    keepalive_requests 1000000;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      %s
    }
  }`, before, backend, addr, location)
}

// writeNginxConf writes a complete non-daemon nginx config with one worker
// whose temp files, pid and logs stay in dir/name.
func writeNginxConf(dir, name, server string) (string, error) {
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(d, 0o750); err != nil {
		return "", err
	}
	conf := fmt.Sprintf(`daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; multi_accept on; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  %[2]s
}
`, d, server)
	p := filepath.Join(d, "nginx.conf")
	return p, os.WriteFile(p, []byte(conf), 0o644)
}

// turnpikeConfig describes one standalone configuration directory.
type turnpikeConfig struct {
	backendPort int
	// full adds CORS, an API key with a usage plan (high throttle, quota)
	// and a stage throttle set high: the full chain of architecture.md.
	full bool
	// extraRoutes adds that many SERVICE routes GET /r{i} (table size).
	extraRoutes int
	// planRate and planBurst are the usage plan's per-key throttle of the
	// full chain (0: 1,000,000 each, far above any load).
	planRate, planBurst int
}

// write writes the YAML files of c into dir (which must exist).
func (c turnpikeConfig) write(dir string) error {
	files := map[string]string{
		"10-api.yaml":       c.apiYAML(),
		"20-stage.yaml":     c.stageYAML(),
		"30-route.yaml":     routeYAML("hello", "GET /hello", c.full),
		"40-service.yaml":   serviceYAML(c.backendPort),
		"50-plan.yaml":      "",
		"60-routes.yaml":    "",
		"70-keysecret.yaml": "",
	}
	if c.full {
		files["50-plan.yaml"] = planYAML(c.planRate, c.planBurst)
		files["70-keysecret.yaml"] = keySecretYAML
	}
	if c.extraRoutes > 0 {
		var b strings.Builder
		for i := range c.extraRoutes {
			b.WriteString(routeYAML(fmt.Sprintf("r%d", i), fmt.Sprintf("GET /r%d/{id}", i), false))
		}
		files["60-routes.yaml"] = b.String()
	}
	for name, text := range files {
		if text == "" {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func (c turnpikeConfig) apiYAML() string {
	s := `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: bench, namespace: bench}
spec:
  protocol: HTTP
`
	if c.full {
		s += `  cors:
    allowOrigins: ["` + origin + `"]
    allowMethods: ["GET", "PUT"]
    allowHeaders: ["content-type", "x-api-key"]
    exposeHeaders: ["x-request-id"]
    maxAgeSeconds: 600
`
	}
	return s
}

func (c turnpikeConfig) stageYAML() string {
	s := `apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: bench}
spec:
  apiName: bench
`
	if c.full {
		s += "  throttle: {rateLimit: 1000000, burstLimit: 1000000}\n"
	}
	return s
}

// routeYAML is one SERVICE route to the Service "backend" (a YAML document
// with its own separator, so that routes concatenate).
func routeYAML(name, key string, keyRequired bool) string {
	s := fmt.Sprintf(`---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: %s, namespace: bench}
spec:
  apiName: bench
  routeKey: %s
  integration:
    type: SERVICE
    service: {name: backend, port: 80}
`, name, key)
	if keyRequired {
		s += "  apiKeyRequired: true\n"
	}
	return s
}

// serviceYAML is the Service "backend" and its EndpointSlice at 127.0.0.1.
func serviceYAML(port int) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: backend, namespace: bench}
spec:
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: backend-local
  namespace: bench
  labels: {kubernetes.io/service-name: backend}
addressType: IPv4
ports: [{name: http, port: %d, protocol: TCP}]
endpoints: [{addresses: ["127.0.0.1"], conditions: {ready: true}}]
`, port)
}

// planYAML is the usage plan "gold" of the full chain with a per-key
// throttle (0: 1,000,000) and a daily quota far above any load.
func planYAML(rate, burst int) string {
	if rate == 0 {
		rate = 1_000_000
	}
	if burst == 0 {
		burst = 1_000_000
	}
	return fmt.Sprintf(`apiVersion: turnpike.io/v1alpha1
kind: UsagePlan
metadata: {name: gold, namespace: bench}
spec:
  apiStages: [{apiName: bench, stage: prod}]
  throttle: {rateLimit: %d, burstLimit: %d}
  quota: {limit: 1000000000000, period: DAY}
  apiKeySelector: {matchLabels: {turnpike.io/usage-plan: gold}}
`, rate, burst)
}

const keySecretYAML = `apiVersion: v1
kind: Secret
metadata:
  name: bench-key
  namespace: bench
  labels: {turnpike.io/usage-plan: gold}
type: turnpike.io/api-key
stringData: {key: ` + apiKey + `}
`
