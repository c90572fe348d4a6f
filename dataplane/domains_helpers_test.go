package dataplane

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// authority is a CA that the tests create: it signs server and client
// certificates with crypto/x509, as cert-manager would.
type authority struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
	pem  []byte
}

func newAuthority(t *testing.T, cn string) *authority {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn, Organization: []string{"Turnpike Tests"}, Country: []string{"US"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &authority{cert: cert, key: key, pool: pool, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a certificate with serial for DNS names (server) or, without
// names, for the client common name cn.
func (a *authority) issue(t *testing.T, serial int64, cn string, names ...string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn, Organization: []string{"Example"}, Country: []string{"US"}},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, a.cert, &key.PublicKey, a.key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// serverTLS is a working table.TLS for cert (as the translator builds it).
func serverTLS(cert tls.Certificate, minVersion string, clientCAs *authority) *table.TLS {
	t := &table.TLS{Secret: "shop/tls", MinVersion: minVersion, Certificate: &cert,
		Serial: cert.Leaf.SerialNumber.Text(16), NotAfter: cert.Leaf.NotAfter}
	if clientCAs != nil {
		t.ClientCASecret, t.ClientCAs = "shop/ca", clientCAs.pool
	}
	return t
}

func domain(host string, t *table.TLS, mappings ...*table.Mapping) *table.Domain {
	return &table.Domain{Hostname: host, TLS: t, Mappings: mappings}
}

func mapTo(base, stage string) *table.Mapping {
	return &table.Mapping{BasePath: base, Namespace: "shop", Api: "pets", Stage: stage}
}

// domainTable serves the Api pets (default host testHost unless disabled)
// with stages prod, dev and secure, each answering its own name on GET /pets,
// and the given domains.
func domainTable(t testing.TB, defaultHost bool, domains ...*table.Domain) *table.Table {
	t.Helper()
	a := testApi(table.ProtocolHTTP,
		stage("prod", mockRoute("GET /pets", 200, "prod")),
		stage("dev", mockRoute("GET /pets", 200, "dev")),
		stage("secure", mockRoute("GET /pets", 200, "secure")))
	if !defaultHost {
		a.Hosts = nil
	}
	tbl, err := table.NewWithDomains([]*table.Api{a}, nil, domains)
	if err != nil {
		t.Fatalf("table.NewWithDomains: %v", err)
	}
	return tbl
}

// gateway is a running server with an HTTP and an HTTPS listener.
type gateway struct {
	s           *Server
	http, https string
}

func startGateway(t *testing.T, tbl *table.Table) *gateway {
	t.Helper()
	s := NewServer(Options{})
	s.Swap(tbl)
	ctx, cancel := context.WithCancel(context.Background())
	h, hs := listen(t), listen(t)
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, Listeners{HTTP: h, HTTPS: hs}) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &gateway{s: s, http: h.Addr().String(), https: hs.Addr().String()}
}

// client is an HTTPS client that trusts roots, presents certs, and dials
// the gateway whatever the URL's host (like curl --resolve).
func (g *gateway) client(roots *x509.CertPool, certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots, Certificates: certs},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.https)
		},
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Second}
}

// handshake dials the HTTPS listener with server name sni and returns the
// connection state or the handshake error.
func (g *gateway) handshake(sni string, cfg *tls.Config) (tls.ConnectionState, error) {
	if cfg == nil {
		cfg = &tls.Config{InsecureSkipVerify: true} // the tests inspect the served certificate themselves
	}
	cfg.ServerName = sni
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", g.https, cfg)
	if err != nil {
		return tls.ConnectionState{}, err
	}
	defer conn.Close()
	return conn.ConnectionState(), nil
}
