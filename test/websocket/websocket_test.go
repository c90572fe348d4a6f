// Package websocket_test runs two built turnpike gateways in standalone
// mode on one YAML directory, as two replicas: WebSocket clients connect to
// one, and the AWS SDK for JavaScript's API Gateway Management API client
// (a backend's usual client, endpoint set to the gateway, static keys) calls
// @connections through the other, which forwards to the owner.
package websocket_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/test/harness"
)

const (
	apiHost  = "chat.shop.execute-api.localhost"
	keyID    = "AKIDTURNPIKETEST0001"
	secret   = "c2VjcmV0LWtleS1vZi10aGUtdGVzdC1vbmx5LTAw"
	otherKey = "AKIDTURNPIKEUNKNOWN1"
)

func TestMain(m *testing.M) {
	code := m.Run()
	harness.RemoveBuilt()
	os.Exit(code)
}

// config is the YAML of both gateways; backend answers $default.
func config(backend string) string {
	return `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: chat, namespace: shop}
spec:
  protocol: WEBSOCKET
  managementApi: {credentialSecretNames: [chat-admin]}
---
apiVersion: v1
kind: Secret
metadata: {name: chat-admin, namespace: shop}
type: turnpike.io/aws-credentials
stringData: {accessKeyId: ` + keyID + `, secretAccessKey: ` + secret + `}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec: {apiName: chat}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: whoami, namespace: shop}
spec:
  apiName: chat
  routeKey: $default
  websocket: {returnResponse: true}
  integration: {type: HTTP_PROXY, uri: "` + backend + `"}
`
}

// gateway is one `turnpike standalone` process.
type gateway struct {
	http string
	cmd  *exec.Cmd
	out  *harness.Buffer
	done chan struct{}
}

func startGateway(t *testing.T, dir, httpAddr string, peers ...string) *gateway {
	return startGatewayFor(t, apiHost, dir, httpAddr, peers...)
}

// startGatewayFor starts a gateway on dir and waits until it serves the
// WebSocket Api on host.
func startGatewayFor(t *testing.T, host, dir, httpAddr string, peers ...string) *gateway {
	t.Helper()
	g := &gateway{http: httpAddr, out: &harness.Buffer{}, done: make(chan struct{})}
	args := []string{"standalone", "-f", dir, "--http-addr=" + httpAddr, "--https-addr=", "--health-addr=" + harness.FreeAddr(t),
		"--metrics-addr=", "--admin-addr=", "--shutdown-delay=0s", "--log-format=text"}
	if len(peers) > 0 {
		args = append(args, "--websocket-peers="+strings.Join(peers, ","))
	}
	g.cmd = exec.Command(harness.Build(t, "./cmd/turnpike"), args...)
	g.cmd.Stdout, g.cmd.Stderr = io.Discard, g.out
	if err := g.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = g.cmd.Wait(); close(g.done) }()
	t.Cleanup(func() {
		g.stop()
		if t.Failed() {
			t.Logf("gateway %s output:\n%s", g.http, g.out.String())
		}
	})
	harness.Eventually(t, 30*time.Second, "gateway "+httpAddr+" serves the Api", func() error {
		req, _ := http.NewRequest(http.MethodGet, "http://"+httpAddr+"/prod", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired {
			return errors.New(resp.Status)
		}
		return nil
	})
	return g
}

func (g *gateway) stop() {
	_ = g.cmd.Process.Signal(os.Interrupt)
	<-g.done
}

// dial connects a WebSocket client to g and returns it with its connection
// id, which the $default route's backend answers with.
func (g *gateway) dial(t *testing.T) (*ws.Conn, string) {
	t.Helper()
	c, _, err := ws.Dial(t.Context(), "ws://"+g.http+"/prod", &ws.DialOptions{Host: apiHost})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.CloseNow() })
	if err := c.Write(t.Context(), ws.MessageText, []byte(`{"action":"whoami"}`)); err != nil {
		t.Fatal(err)
	}
	return c, readText(t, c)
}

func readText(t *testing.T, c *ws.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

// sdkResult is one line of connections.mjs.
type sdkResult struct {
	OK      bool
	Name    string
	Status  int
	Message string
	Result  struct {
		ConnectedAt, LastActiveAt string
		Identity                  struct{ SourceIp, UserAgent string }
	}
}

// sdkCall is one call of connections.mjs.
type sdkCall struct {
	Endpoint        string `json:"endpoint"`
	Op              string `json:"op"`
	ID              string `json:"id"`
	Data            string `json:"data,omitempty"`
	AccessKeyID     string `json:"accessKeyId"`
	SecretAccessKey string `json:"secretAccessKey"`
	ClockOffsetMs   int64  `json:"clockOffsetMs,omitempty"`
}

var npmOnce sync.Once

// sdkDir is test/websocket/sdk with its node_modules installed (npm ci from
// the committed package-lock.json, once per test process).
func sdkDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(harness.RepoRoot(), "test", "websocket", "sdk")
	npmOnce.Do(func() {
		if _, err := exec.LookPath("node"); err != nil {
			t.Fatal("node is not installed: run hack/install-deps.sh (Debian packages nodejs and npm)")
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("npm ci in %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// sdk runs calls with the AWS SDK for JavaScript (npm ci on first use).
func sdk(t *testing.T, calls ...sdkCall) []sdkResult {
	t.Helper()
	dir := sdkDir(t)
	for i := range calls {
		if calls[i].AccessKeyID == "" {
			calls[i].AccessKeyID, calls[i].SecretAccessKey = keyID, secret
		}
	}
	arg, _ := json.Marshal(calls)
	cmd := exec.CommandContext(t.Context(), "node", "--no-warnings", "--import", "./loopback-dns.mjs", "connections.mjs", string(arg))
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node connections.mjs: %v\n%s", err, out)
	}
	var res []sdkResult
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var r sdkResult
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("connections.mjs printed %q", sc.Text())
		}
		res = append(res, r)
	}
	if len(res) != len(calls) {
		t.Fatalf("%d results for %d calls:\n%s", len(res), len(calls), out)
	}
	return res
}

func TestConnectionsAPIThroughTheOtherReplicaWithTheAWSSDK(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.Header.Get("X-Turnpike-Connection-Id")))
	}))
	defer backend.Close()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "chat.yaml"), []byte(config(backend.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	addrA, addrB := harness.FreeAddr(t), harness.FreeAddr(t)
	a := startGateway(t, dir, addrA, addrB)
	startGateway(t, dir, addrB, addrA)

	c, id := a.dial(t)
	viaB := "http://" + apiHost + ":" + portOf(addrB) + "/prod"
	res := sdk(t,
		sdkCall{Endpoint: viaB, Op: "post", ID: id, Data: "hello from B"},
		sdkCall{Endpoint: viaB, Op: "get", ID: id},
		sdkCall{Endpoint: viaB, Op: "post", ID: id, Data: "x", AccessKeyID: otherKey, SecretAccessKey: secret},
		sdkCall{Endpoint: viaB, Op: "post", ID: id, Data: "x", SecretAccessKey: "d3JvbmctZA==", AccessKeyID: keyID},
		sdkCall{Endpoint: viaB, Op: "post", ID: id, Data: "x", ClockOffsetMs: -10 * 60 * 1000},
		sdkCall{Endpoint: viaB, Op: "post", ID: "AAAAAAAAAAAAAAAAAAAA", Data: "x"},
	)
	if !res[0].OK || res[0].Status != http.StatusOK {
		t.Fatalf("post through B: %+v", res[0])
	}
	if msg := readText(t, c); msg != "hello from B" {
		t.Errorf("the client on A got %q", msg)
	}
	if r := res[1]; !r.OK || r.Result.Identity.SourceIp != "127.0.0.1" || r.Result.ConnectedAt == "" || r.Result.LastActiveAt == "" {
		t.Errorf("get through B: %+v", r)
	}
	for i, want := range []struct {
		name, message string
		status        int
	}{
		{"UnrecognizedClientException", "The security token included in the request is invalid.", 403},
		{"InvalidSignatureException", "The request signature we calculated does not match", 403},
		{"InvalidSignatureException", "Signature expired", 403},
		{"GoneException", "", 410},
	} {
		if r := res[2+i]; r.OK || r.Name != want.name || r.Status != want.status || !strings.Contains(r.Message, want.message) {
			t.Errorf("call %d = %+v, want %s %d %q", 2+i, r, want.name, want.status, want.message)
		}
	}

	res = sdk(t, sdkCall{Endpoint: viaB, Op: "delete", ID: id}, sdkCall{Endpoint: viaB, Op: "post", ID: id, Data: "late"})
	if !res[0].OK || res[0].Status != http.StatusNoContent {
		t.Errorf("delete through B: %+v", res[0])
	}
	if res[1].OK || res[1].Name != "GoneException" {
		t.Errorf("post after delete: %+v", res[1])
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, _, err := c.Read(ctx); ws.CloseStatus(err) != ws.StatusNormalClosure {
		t.Errorf("after DELETE the client read %v", err)
	}

	// The owner is gone: calls for its connections are 410.
	_, id2 := a.dial(t)
	a.stop()
	if r := sdk(t, sdkCall{Endpoint: viaB, Op: "get", ID: id2})[0]; r.OK || r.Name != "GoneException" {
		t.Errorf("get of a connection whose replica stopped: %+v", r)
	}
}

func portOf(addr string) string { return addr[strings.LastIndexByte(addr, ':')+1:] }
