package hardening

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

// tlsHost is the custom domain served over TLS (HTTP/2 and HTTP/1.1) by the
// tlsStage fixture; clients reach it through a dialer that connects to the
// gateway's HTTPS listener and sends this name as SNI (no DNS).
const tlsHost = "api.example.com"

// tlsFixture returns the YAML of a TLS Secret and a Stage serving the
// fixture's Api on tlsHost (basePath v1), and the roots that trust it.
func tlsFixture(t *testing.T) (string, *x509.CertPool) {
	y, roots, _ := tlsFixtureCert(t)
	return y, roots
}

// tlsFixtureCert is tlsFixture that also returns the certificate.
func tlsFixtureCert(t *testing.T) (string, *x509.CertPool, tls.Certificate) {
	t.Helper()
	certPEM, keyPEM := harness.SelfSignedPEM(t, tlsHost)
	roots := harness.Roots(certPEM)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	y := fmt.Sprintf(`apiVersion: v1
kind: Secret
metadata: {name: api-tls, namespace: shop}
type: kubernetes.io/tls
stringData:
  tls.crt: |
%s
  tls.key: |
%s
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: secure, namespace: shop}
spec:
  apiName: pets
  stageName: secure
  domains: [{hostname: %s, basePath: v1, tls: {secretName: api-tls}}]
`, indent(string(certPEM), "    "), indent(string(keyPEM), "    "), tlsHost)
	return y, roots, cert
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return pre + strings.Join(lines, "\n"+pre)
}

// dialTLS opens a TLS connection to the gateway's HTTPS listener for
// tlsHost, offering ALPN protos.
func (e *env) dialTLS(t *testing.T, roots *x509.CertPool, protos ...string) *tls.Conn {
	t.Helper()
	raw, err := net.DialTimeout("tcp", e.gw.HTTPS, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, &tls.Config{ServerName: tlsHost, RootCAs: roots, NextProtos: protos})
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if err := c.Handshake(); err != nil {
		_ = raw.Close()
		t.Fatalf("TLS handshake with %s: %v", tlsHost, err)
	}
	_ = c.SetDeadline(time.Time{})
	t.Cleanup(func() { _ = c.Close() })
	return c
}
