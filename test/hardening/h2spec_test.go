package hardening

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/summerwind/h2spec/config"
	"github.com/summerwind/h2spec/generic"
	"github.com/summerwind/h2spec/hpack"
	h2spechttp2 "github.com/summerwind/h2spec/http2"
	"github.com/summerwind/h2spec/spec"

	"github.com/turnpike-io/turnpike/test/harness"
)

// h2specChild marks the test process that runs inside the namespace.
const h2specChild = "TURNPIKE_H2SPEC_CHILD"

// TestH2spec runs h2spec (RFC 7540/7541 conformance; github.com/summerwind/h2spec
// as a library) against the gateway's TLS listener and, as the baseline,
// against a bare net/http server of the same Go with the same certificate.
// The gateway may fail only where the bare server fails: a failure of its
// own is a regression of the gateway. h2spec dials "host:port" and takes
// the TLS server name from it, so the test runs itself again inside a
// network namespace whose /etc/hosts (ip netns exec binds
// /etc/netns/NAME/hosts there) maps the custom domain to loopback.
func TestH2spec(t *testing.T) {
	if os.Getenv(h2specChild) != "" {
		runH2spec(t)
		return
	}
	if os.Geteuid() != 0 {
		t.Skip("h2spec needs root to create a network namespace for its hostname (CI runs as root)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("h2spec needs iproute2 (`make deps` installs it)")
	}
	ns := fmt.Sprintf("tp-h2spec-%d", os.Getpid()%100000)
	etc := filepath.Join("/etc/netns", ns)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", ns).Run()
		_ = os.RemoveAll(etc)
	})
	if err := os.MkdirAll(etc, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(etc, "hosts"), []byte("127.0.0.1 localhost "+tlsHost+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"netns", "add", ns}, {"-n", ns, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	bin := harness.Build(t, "./cmd/turnpike")
	cmd := exec.Command("ip", "netns", "exec", ns, os.Args[0], "-test.run=^TestH2spec$", "-test.v", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(), h2specChild+"="+bin)
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, "h2spec_test.go") {
			t.Log(strings.TrimSpace(line))
		}
	}
	if err != nil {
		t.Fatalf("h2spec inside namespace %s: %v\n%s", ns, err, tailLines(string(out), 80))
	}
}

// runH2spec is the part inside the namespace.
func runH2spec(t *testing.T) {
	harness.UseBuilt("./cmd/turnpike", os.Getenv(h2specChild))
	y, _, cert := tlsFixtureCert(t)
	e := start(t, y)
	bare := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("ok"))
	}))
	bare.EnableHTTP2 = true
	bare.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	bare.StartTLS()
	t.Cleanup(bare.Close)

	// A few cases race the server's own goroutines (a stream reset while
	// its handler still runs): each side runs twice, and only a case the
	// gateway fails both times and the bare server never fails is the
	// gateway's.
	var gw, base [2]h2specResult
	for i := range 2 {
		gw[i] = h2specFailures(t, port(e.gw.HTTPS), "/v1/direct/h2spec")
		base[i] = h2specFailures(t, port(bare.URL), "/")
		t.Logf("h2spec run %d, gateway: %d passed, %d failed %v", i+1, gw[i].passed, len(gw[i].failed), gw[i].failed)
		t.Logf("h2spec run %d, bare net/http: %d passed, %d failed %v", i+1, base[i].passed, len(base[i].failed), base[i].failed)
	}
	for j, f := range gw[0].failed {
		if slices.Contains(gw[1].failed, f) && !slices.Contains(base[0].failed, f) && !slices.Contains(base[1].failed, f) {
			t.Errorf("h2spec %s fails on the gateway (twice) but never on a bare net/http server", gw[0].why[j])
		}
	}
	if n := gw[0].passed + len(gw[0].failed); n < 140 {
		t.Errorf("only %d h2spec cases ran", n)
	}
}

// h2specResult is one h2spec run: passed count and failed case ids
// ("http2/8.1.2.2/1": group key, section, position).
type h2specResult struct {
	passed int
	failed []string
	why    []string // each failure's description and error
}

func h2specFailures(t *testing.T, portText, path string) h2specResult {
	t.Helper()
	p, err := strconv.Atoi(portText)
	if err != nil {
		t.Fatal(err)
	}
	c := &config.Config{Host: tlsHost, Port: p, Path: path, Timeout: 2 * time.Second, MaxHeaderLen: 4000, TLS: true, Insecure: true}
	var r h2specResult
	for _, g := range []*spec.TestGroup{generic.Spec(), h2spechttp2.Spec(), hpack.Spec()} {
		g.Test(c)
		collect(g, &r)
	}
	return r
}

func collect(g *spec.TestGroup, r *h2specResult) {
	for i, tc := range g.Tests {
		switch {
		case tc.Result == nil || tc.Result.Skipped:
		case tc.Result.Failed:
			r.failed = append(r.failed, fmt.Sprintf("%s/%d", g.ID(), i+1))
			r.why = append(r.why, fmt.Sprintf("%s/%d %s: %v", g.ID(), i+1, tc.Desc, tc.Result.Error))
		default:
			r.passed++
		}
	}
	for _, sub := range g.Groups {
		collect(sub, r)
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
