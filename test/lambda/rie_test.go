// Package lambda_test runs AWS Lambda handlers written with aws-lambda-go
// (test/lambda/handler) as `bootstrap` binaries under the real Lambda
// Runtime Interface Emulator (built from the Go module proxy), exactly as in
// a Lambda container image, behind the built turnpike binary.
package lambda_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// function is one Runtime Interface Emulator running the handler.
type function struct {
	addr string
	cmd  *exec.Cmd
	out  *harness.Buffer
}

// startFunction runs the handler (HANDLER=handler) under the emulator on
// a loopback port; env adds variables (AWS_LAMBDA_FUNCTION_TIMEOUT=...).
func startFunction(t *testing.T, handler string, env ...string) *function {
	t.Helper()
	bootstrap := harness.Build(t, "./test/lambda/handler")
	f := &function{addr: harness.FreeAddr(t), out: &harness.Buffer{}}
	// Each emulator gets its own runtime API port (default 127.0.0.1:9001,
	// one per network namespace, as in a pod).
	f.cmd = exec.Command(harness.RIE(t), "--runtime-interface-emulator-address", f.addr,
		"--runtime-api-address", harness.FreeAddr(t), bootstrap)
	f.cmd.Env = append(os.Environ(), append([]string{"HANDLER=" + handler}, env...)...)
	f.cmd.Stdout, f.cmd.Stderr = f.out, f.out
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = f.cmd.Process.Kill()
		_ = f.cmd.Wait()
		if t.Failed() {
			t.Logf("emulator (%s) output:\n%s", handler, f.out.String())
		}
	})
	harness.Eventually(t, 20*time.Second, "the emulator listening", func() error {
		c, err := net.Dial("tcp", f.addr)
		if err == nil {
			c.Close()
		}
		return err
	})
	return f
}

// port is the emulator's port.
func (f *function) port() string {
	_, p, _ := net.SplitHostPort(f.addr)
	return p
}

// functionService is a Service and its EndpointSlice (loopback, which
// standalone mode takes as given) for the emulators of fns.
func functionService(name string, fns ...*function) string {
	// One slice per emulator: each has its own port.
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Service\nmetadata: {name: %s, namespace: shop}\nspec:\n  ports: [{name: rie, port: 8080}]\n", name)
	for i, f := range fns {
		fmt.Fprintf(&b, `---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %s-%d
  namespace: shop
  labels: {kubernetes.io/service-name: %s}
addressType: IPv4
ports: [{name: rie, port: %s, protocol: TCP}]
endpoints:
  - addresses: ["127.0.0.1"]
    conditions: {ready: true}
`, name, i, name, f.port())
	}
	return b.String()
}

// standalone writes docs into a directory and starts the gateway on it.
func standalone(t *testing.T, docs []string, args ...string) *harness.Gateway {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(strings.Join(docs, "\n---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return harness.StartGateway(t, harness.GatewayConfig{Args: []string{"standalone", "-f", dir}, Extra: args})
}

const host = "pets.shop.execute-api.localhost"

// send sends a request with the Api's Host and returns the response with
// its body read.
func send(t *testing.T, g *harness.Gateway, method, path string, header http.Header, body string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.HTTP+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return res, string(b)
}
