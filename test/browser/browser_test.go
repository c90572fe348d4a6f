// Package browser proves the gateway's CORS answers in a real browser:
// headless Chromium (the Debian package, installed by hack/install-deps.sh)
// opens pages served from loopback origins that call the built turnpike
// binary, running in standalone mode, on another origin. What the page can
// read is what a user's single-page app can read, so these tests catch what
// header-level tests cannot: a browser that refuses an answer.
package browser

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
)

// chromiumPath is where the Debian package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// apis is the standalone configuration: pets allows credentials for the
// page's origin, toys allows the same origin without credentials. Both carry
// a route that the gateway answers 500 itself (its Service does not exist) and
// one it answers 401 itself (a REQUEST authorizer's identity source is missing).
const apis = `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
spec:
  cors:
    allowOrigins: ["ORIGIN"]
    allowMethods: ["GET", "PUT"]
    allowHeaders: ["x-custom", "content-type"]
    exposeHeaders: ["x-request-id"]
    maxAgeSeconds: 5
    allowCredentials: true
---
apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: toys, namespace: shop}
spec:
  cors:
    allowOrigins: ["ORIGIN"]
    allowMethods: ["GET", "PUT"]
    allowHeaders: ["x-custom"]
`

const stagesAndRoutes = `apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: API-prod, namespace: shop}
spec: {apiName: API, stageName: prod}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: API-get, namespace: shop}
spec:
  apiName: API
  routeKey: GET /items
  integration:
    type: MOCK
    mock: {body: 'API list', headers: {access-control-allow-origin: "https://backend-says.test"}}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: API-put, namespace: shop}
spec:
  apiName: API
  routeKey: PUT /items
  integration:
    type: MOCK
    mock: {body: 'API stored'}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: API-broken, namespace: shop}
spec:
  apiName: API
  routeKey: GET /broken
  integration: {type: SERVICE, service: {name: missing, port: 80}}
---
# The page sends no x-token, so the gateway answers 401 without calling the
# authorizer (which does not exist).
apiVersion: turnpike.io/v1alpha1
kind: Authorizer
metadata: {name: API-authz, namespace: shop}
spec:
  apiName: API
  type: REQUEST
  identitySources: ["$request.header.x-token"]
  request: {uri: "http://127.0.0.1:9/authorize", enableSimpleResponses: true}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: API-private, namespace: shop}
spec:
  apiName: API
  routeKey: GET /private
  authorizationType: CUSTOM
  authorizerName: API-authz
  integration: {type: MOCK, mock: {body: 'API secret'}}
`

// page is what every origin serves: probe() runs one fetch and writes its
// outcome into #out, where the test reads it through DevTools.
const page = `<!doctype html><html><head><title>cors probe</title></head><body><pre id="out"></pre>
<script>
window.probe = async (url, init) => {
  let res;
  try {
    const r = await fetch(url, init);
    res = {fetched: true, status: r.status, body: await r.text(), requestId: r.headers.get("x-request-id") || ""};
  } catch (e) {
    res = {fetched: false, error: String(e)};
  }
  document.getElementById("out").textContent = JSON.stringify(res);
  return true;
};
</script></body></html>`

// outcome is what probe() wrote into the page.
type outcome struct {
	Fetched   bool   `json:"fetched"`
	Status    int    `json:"status"`
	Body      string `json:"body"`
	RequestID string `json:"requestId"`
	Error     string `json:"error"`
}

func TestABrowserSeesTheGatewaysCORSAnswers(t *testing.T) {
	requireChromium(t)
	allowed, unlisted := servePage(t), servePage(t)
	gw := startGateway(t, strings.ReplaceAll(apis, "ORIGIN", allowed))
	b := newBrowser(t)
	pets := "http://pets.shop.execute-api.localhost:" + gw.port + "/prod"
	toys := "http://toys.shop.execute-api.localhost:" + gw.port + "/prod"
	preflighted := `{method: "PUT", headers: {"X-Custom": "1"}, credentials: "include"}`

	t.Run("an allowed origin reads the body and an exposed header", func(t *testing.T) {
		o := b.probe(t, allowed, pets+"/items", `{}`)
		if !o.Fetched || o.Status != 200 || o.Body != "pets list" || o.RequestID == "" {
			t.Fatalf("got %+v, want 200 %q with the exposed x-request-id", o, "pets list")
		}
	})
	t.Run("an unlisted origin is blocked by the browser", func(t *testing.T) {
		o := b.probe(t, unlisted, pets+"/items", `{}`)
		if o.Fetched {
			t.Fatalf("the page of an unlisted origin read %+v", o)
		}
		b.expectCORSMessage(t, "No 'Access-Control-Allow-Origin' header")
	})
	t.Run("a preflighted request with credentials works when the Api allows credentials", func(t *testing.T) {
		o := b.probe(t, allowed, pets+"/items", preflighted)
		if !o.Fetched || o.Status != 200 || o.Body != "pets stored" {
			t.Fatalf("got %+v, want 200 %q", o, "pets stored")
		}
		// Access-log lines are batched (written within 50 ms): wait for it.
		harness.Eventually(t, 2*time.Second, "the gateway's access-log line of the preflight", func() error {
			if !strings.Contains(gw.out.String(), `"httpMethod":"OPTIONS"`) {
				return errors.New("the gateway logged no preflight: the browser did not ask, so the test proves nothing")
			}
			return nil
		})
	})
	t.Run("the same request fails when the Api does not allow credentials", func(t *testing.T) {
		o := b.probe(t, allowed, toys+"/items", preflighted)
		if o.Fetched {
			t.Fatalf("a credentialed request read %+v from an Api without allowCredentials", o)
		}
		b.expectCORSMessage(t, "Access-Control-Allow-Credentials")
	})
	t.Run("the same request without credentials works on that Api", func(t *testing.T) {
		o := b.probe(t, allowed, toys+"/items", `{method: "PUT", headers: {"X-Custom": "1"}}`)
		if !o.Fetched || o.Status != 200 || o.Body != "toys stored" {
			t.Fatalf("got %+v, want 200 %q", o, "toys stored")
		}
	})
	t.Run("a header the Api does not allow fails the preflight", func(t *testing.T) {
		o := b.probe(t, allowed, toys+"/items", `{method: "PUT", headers: {"X-Other": "1"}}`)
		if o.Fetched {
			t.Fatalf("read %+v with a header that is not allowed", o)
		}
	})
	for _, tc := range []struct {
		name, path string
		status     int
		body       string
	}{
		{"a gateway 401 is readable by the page", "/private", 401, `{"message":"Unauthorized"}`},
		{"a gateway 404 is readable by the page", "/nowhere", 404, `{"message":"Not Found"}`},
		{"a gateway 500 is readable by the page", "/broken", 500, `{"message":"Internal Server Error"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := b.probe(t, allowed, pets+tc.path, `{credentials: "include"}`)
			if !o.Fetched || o.Status != tc.status || o.Body != tc.body {
				t.Fatalf("got %+v, want %d %s (not a CORS failure)", o, tc.status, tc.body)
			}
		})
	}
}

// requireChromium skips without the browser, except in CI (CI set), where a
// missing browser means hack/install-deps.sh failed and must not pass
// silently.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	msg := chromiumPath + " is missing: install the Debian package with hack/install-deps.sh (apt-get install chromium)"
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// servePage serves the probe page on a fresh loopback port and returns its
// origin.
func servePage(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = fmt.Fprint(w, page)
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

// gateway is the turnpike binary running standalone on a config directory.
type gateway struct {
	port string
	out  *harness.Buffer
}

// startGateway builds turnpike, writes the config and waits until /readyz is 200.
func startGateway(t *testing.T, apiYAML string) *gateway {
	t.Helper()
	bin := harness.Build(t, "./cmd/turnpike")
	dir := t.TempDir()
	files := map[string]string{"apis.yaml": apiYAML}
	for _, api := range []string{"pets", "toys"} {
		files[api+".yaml"] = strings.ReplaceAll(stagesAndRoutes, "API", api)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	httpAddr, health := harness.FreeAddr(t), harness.FreeAddr(t)
	g := &gateway{out: &harness.Buffer{}}
	_, g.port, _ = net.SplitHostPort(httpAddr)
	cmd := exec.Command(bin, "standalone", "-f", dir, "--http-addr="+httpAddr, "--https-addr=", "--health-addr="+health,
		"--admin-addr="+harness.FreeAddr(t), "--metrics-addr="+harness.FreeAddr(t), "--shutdown-delay=0s", "--log-format=text")
	cmd.Stdout, cmd.Stderr = g.out, g.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gateway output:\n%s", g.out.String())
		}
	})
	harness.Eventually(t, 60*time.Second, "gateway ready", func() error { return harness.Readyz(health) })
	return g
}

// browser is one headless Chromium with one tab, and the messages its
// console log received (CORS refusals are reported there).
type browser struct {
	ctx  context.Context
	mu   sync.Mutex
	logs []string
}

// newBrowser starts Chromium with a fresh profile. Every host resolves to
// loopback or nowhere, and background services are off: the browser talks
// to the test's listeners only.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true),
		chromedp.Flag("host-resolver-rules", "MAP *.localhost 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// The first Run starts the browser and must not carry a timeout (it
	// would stop the browser with it); the test's own deadline bounds it.
	if err := chromedp.Do(ctx, enableLog); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*log.EventEntryAdded); ok && e.Entry != nil {
			b.mu.Lock()
			b.logs = append(b.logs, e.Entry.Text)
			b.mu.Unlock()
		}
	}); err != nil {
		t.Fatal(err)
	}
	return b
}

// probe opens pageOrigin, runs fetch(url, init) there and reads the outcome
// back from the page's DOM.
func (b *browser) probe(t *testing.T, pageOrigin, url, init string) outcome {
	t.Helper()
	b.mu.Lock()
	b.logs = nil
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageOrigin+"/")); err != nil {
		t.Fatalf("open %s: %v", pageOrigin, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf("probe(%q, %s)", url, init), chromedp.EvalAwaitPromise)); err != nil {
		t.Fatalf("probe %s from %s: %v", url, pageOrigin, err)
	}
	text, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.ID("out")))
	if err != nil {
		t.Fatalf("read #out: %v", err)
	}
	var o outcome
	if err := json.Unmarshal([]byte(text), &o); err != nil {
		t.Fatalf("page wrote %q: %v", text, err)
	}
	return o
}

// enableLog turns on the Log domain, where the browser reports CORS refusals.
func enableLog(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
	_, err := cdp.Call(ctx, t, log.Enable, cdp.Empty{})
	return chromedp.Void{}, err
}

// expectCORSMessage waits until the console log reports a CORS refusal
// containing want: proof that the fetch failed because of CORS, not because
// the gateway was unreachable.
func (b *browser) expectCORSMessage(t *testing.T, want string) {
	t.Helper()
	harness.Eventually(t, 10*time.Second, "a CORS message with "+want, func() error {
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, l := range b.logs {
			if strings.Contains(l, "CORS policy") && strings.Contains(l, want) {
				return nil
			}
		}
		return fmt.Errorf("console log: %q", b.logs)
	})
}
