package chaos

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-logr/logr"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/turnpike-io/turnpike/test/harness"
)

// outage is how long the API server stays down.
const outage = 2 * time.Minute

// clusterObjects is an Api served on the default endpoint and on a TLS
// custom domain, with an open route, a JWT route, a REQUEST-authorized
// route and a throttled route. ISSUER, AUTHZ, BACKEND are loopback URLs.
const clusterObjects = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec:
  apiName: pets
  routeSettings: [{routeKey: "GET /limited", throttle: {rateLimit: 2, burstLimit: 2}}]
  domains: [{hostname: api.example.com, basePath: v1, tls: {secretName: api-tls}}]
---
apiVersion: turnpike.io/v1alpha1
kind: Authorizer
metadata: {name: jwt, namespace: shop}
spec:
  apiName: pets
  type: JWT
  jwt: {issuer: "ISSUER", jwksUri: "ISSUER/jwks", audiences: [pets], algorithms: [RS256]}
---
apiVersion: turnpike.io/v1alpha1
kind: Authorizer
metadata: {name: req, namespace: shop}
spec:
  apiName: pets
  type: REQUEST
  identitySources: ["$request.header.x-token"]
  request: {uri: "AUTHZ/authorize", enableSimpleResponses: true, resultTtlSeconds: 0}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: open, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /open
  integration: {type: HTTP_PROXY, uri: "BACKEND/open"}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: jwt, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /jwt
  authorizationType: JWT
  authorizerName: jwt
  integration: {type: HTTP_PROXY, uri: "BACKEND/jwt"}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: req, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /req
  authorizationType: CUSTOM
  authorizerName: req
  integration: {type: HTTP_PROXY, uri: "BACKEND/req"}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: limited, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /limited
  integration: {type: MOCK, mock: {body: limited}}
`

// addedRoute is the edit made after the API server returns.
const addedRoute = `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: added, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /added
  integration: {type: MOCK, mock: {body: added}}
`

// TestAPIServerDownForTwoMinutesChangesNothing runs `turnpike serve` against
// a real kube-apiserver and etcd (envtest), sends a mixed load (plain and
// TLS, a fresh handshake per TLS request; JWT and REQUEST authorization,
// good and bad credentials; a throttled route), stops the API server for
// two minutes and starts it again: every answer stays what it was, the
// throttle admits no more than its bucket, and an edit made after the API
// server returns is served (the figure: how long after).
func TestAPIServerDownForTwoMinutesChangesNothing(t *testing.T) {
	c := startCluster(t)
	issuer, token := jwtIssuer(t)
	authz := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		_, _ = fmt.Fprintf(w, `{"isAuthorized": %v}`, strings.Contains(string(body), `"good"`))
	}))
	t.Cleanup(authz.Close)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.URL.Path) }))
	t.Cleanup(backend.Close)
	certPEM, keyPEM := harness.SelfSignedPEM(t, "api.example.com")
	roots := harness.Roots(certPEM)
	objects := strings.NewReplacer("ISSUER", issuer, "AUTHZ", authz.URL, "BACKEND", backend.URL).Replace(clusterObjects) +
		fmt.Sprintf("---\napiVersion: v1\nkind: Secret\nmetadata: {name: api-tls, namespace: shop}\ntype: kubernetes.io/tls\nstringData:\n  tls.crt: |\n%s\n  tls.key: |\n%s\n",
			indent(string(certPEM)), indent(string(keyPEM)))
	c.apply(t, objects)
	g := harness.StartGateway(t, harness.GatewayConfig{Args: []string{"serve", "--kubeconfig=" + c.kubeconfig, "--leader-elect=false"},
		Extra: []string{"--deny-egress-cidrs=169.254.0.0/16", "--allow-http-jwks"}})
	base := "http://" + g.HTTP + "/prod"
	plain := []target{
		{name: "open", method: "GET", url: base + "/open", header: hostHeader(host), judge: want(200)},
		{name: "jwt good", method: "GET", url: base + "/jwt?t=good", header: hostHeader(host, "Authorization", "Bearer "+token), judge: want(200)},
		{name: "jwt bad", method: "GET", url: base + "/jwt?t=bad", header: hostHeader(host, "Authorization", "Bearer "+token[:len(token)-4]+"AAAA"), judge: want(401)},
		{name: "req good", method: "GET", url: base + "/req?t=good", header: hostHeader(host, "X-Token", "good"), judge: want(200)},
		{name: "req bad", method: "GET", url: base + "/req?t=bad", header: hostHeader(host, "X-Token", "bad"), judge: want(403)},
		{name: "limited", method: "GET", url: base + "/limited", header: hostHeader(host), judge: want(200, 429)},
	}
	harness.Eventually(t, 60*time.Second, "every route served as configured", func() error { return probe(plain) })
	tlsClient := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: true, // a new TLS handshake for every request
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.HTTPS)
		},
	}}
	secure := target{name: "tls", method: "GET", url: "https://api.example.com/v1/open", header: http.Header{}, judge: want(200)}

	var before, during, after tally
	run := func(tl *tally, d time.Duration) {
		var wg sync.WaitGroup
		wg.Go(func() { attack(tl, 240, d, nil, nil, plain...) })
		wg.Go(func() { attack(tl, 40, d, nil, tlsClient, secure) })
		wg.Wait()
	}
	run(&before, 5*time.Second)
	before.check(t, "API server up")

	// A graceful stop can outlast envtest's timeout while the gateway holds
	// watches open; envtest then kills the process, which is an outage too.
	if err := c.env.ControlPlane.APIServer.Stop(); err != nil && !strings.Contains(err.Error(), "timeout waiting") {
		t.Fatalf("stop API server: %v", err)
	}
	run(&during, outage)
	during.check(t, fmt.Sprintf("API server down for %v", outage))
	checkThrottle(t, &during, outage)

	if err := c.env.ControlPlane.APIServer.Start(); err != nil {
		t.Fatalf("restart API server: %v", err)
	}
	back := time.Now()
	c.apply(t, addedRoute)
	harness.Eventually(t, 5*time.Minute, "the edit made after the API server returned", func() error {
		return probe([]target{{name: "added", method: "GET", url: base + "/added", header: hostHeader(host), judge: want(200)}})
	})
	t.Logf("API server outage: an edit applied after it returned was served %v after the API server started again", time.Since(back).Round(time.Millisecond))
	run(&after, 5*time.Second)
	after.check(t, "after the API server returned")
}

// probe sends each target once and returns the first wrong answer.
func probe(targets []target) error {
	cl := &http.Client{Timeout: 5 * time.Second}
	for _, x := range targets {
		req, _ := http.NewRequest(x.method, x.url, nil)
		req.Header = x.header.Clone()
		req.Host = x.header.Get("Host")
		res, err := cl.Do(req)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if why := x.judge(&vegeta.Result{Code: uint16(res.StatusCode), Body: body}); why != "" {
			return fmt.Errorf("%s: %s", x.name, why)
		}
	}
	return nil
}

// checkThrottle: the route bucket (2/s, burst 2) admitted no more than it
// holds during the outage.
func checkThrottle(t *testing.T, tl *tally, d time.Duration) {
	t.Helper()
	tl.mu.Lock()
	admitted := tl.byTarget["limited"][200]
	tl.mu.Unlock()
	allowed := 2 + int(2*d.Seconds()) + 2
	t.Logf("throttle during the outage: %d admitted on GET /limited (bucket 2/s, burst 2: at most %d)", admitted, allowed)
	if admitted > allowed || admitted == 0 {
		t.Errorf("GET /limited admitted %d during the outage, want 1..%d", admitted, allowed)
	}
}

// cluster is one kube-apiserver and etcd (bin/k8s, built by
// hack/envtest-assets.sh) with the CRDs, and a kubeconfig for the binary.
type cluster struct {
	env        *envtest.Environment
	kubeconfig string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	logf.SetLogger(logr.Discard())
	root := harness.RepoRoot()
	assets := filepath.Join(root, "bin", "k8s")
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		t.Fatalf("envtest binaries missing in %s: run `make envtest` first", assets)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, ErrorIfCRDPathMissing: true,
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}}
	env.ControlPlane.GetAPIServer().CertDir = t.TempDir() // the same serving certificate after a restart
	if _, err := env.Start(); err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	user, err := env.AddUser(envtest.User{Name: "chaos-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	return &cluster{env: env, kubeconfig: path}
}

// apply runs kubectl apply on doc, retrying while the API server comes up.
func (c *cluster) apply(t *testing.T, doc string) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "obj.yaml")
	if err := os.WriteFile(f, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	harness.Eventually(t, 60*time.Second, "kubectl apply", func() error {
		out, err := exec.Command("kubectl", "--kubeconfig", c.kubeconfig, "apply", "-f", f).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	})
}

// jwtIssuer serves a JWKS with one RSA key on loopback and returns the
// issuer URL and a token it signed (aud pets, valid for an hour).
func jwtIssuer(t *testing.T) (string, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	jwk := jose.JSONWebKey{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}
	set, err := json.Marshal(map[string]any{"keys": []jose.JSONWebKey{jwk}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(set) }))
	t.Cleanup(srv.Close)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	claims, _ := json.Marshal(map[string]any{"iss": srv.URL, "aud": "pets", "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
	obj, err := signer.Sign(claims)
	if err != nil {
		t.Fatal(err)
	}
	token, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return srv.URL, token
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}
