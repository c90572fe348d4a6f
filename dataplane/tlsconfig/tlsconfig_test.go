package tlsconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

func selfSigned(t *testing.T, host string, notAfter time.Time) *tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), DNSNames: []string{host}, NotBefore: notAfter.Add(-48 * time.Hour), NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func tableOf(t *testing.T, domains ...*table.Domain) *table.Table {
	t.Helper()
	a := &table.Api{Namespace: "ns", Name: "a", Protocol: table.ProtocolHTTP, Stages: []*table.Stage{{Name: "prod", Object: "ns/prod"}}}
	tbl, err := table.NewWithDomains([]*table.Api{a}, nil, domains)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func tlsDomain(host string, cert *tls.Certificate, ca *x509.CertPool) *table.Domain {
	d := &table.Domain{Hostname: host, Mappings: []*table.Mapping{{Namespace: "ns", Api: "a", Stage: "prod"}},
		TLS: &table.TLS{Secret: "ns/" + host, MinVersion: table.TLSVersion12, Certificate: cert, NotAfter: cert.Leaf.NotAfter}}
	if ca != nil {
		d.TLS.ClientCASecret, d.TLS.ClientCAs = "ns/ca", ca
	}
	return d
}

func TestACertificatePastItsExpiryIsRefusedWithoutANewTable(t *testing.T) {
	expiry := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tbl := tableOf(t, tlsDomain("a.example.com", selfSigned(t, "a.example.com", expiry), nil))
	now := expiry.Add(-time.Minute)
	s := New(func() *table.Table { return tbl }, func() time.Time { return now })
	if _, err := s.ForClient(&tls.ClientHelloInfo{ServerName: "a.example.com"}); err != nil {
		t.Fatalf("before expiry: %v", err)
	}
	now = expiry.Add(time.Second)
	if _, err := s.ForClient(&tls.ClientHelloInfo{ServerName: "a.example.com"}); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("after expiry: %v, want refused as expired", err)
	}
}

func TestConfigurationsAreBuiltOncePerTable(t *testing.T) {
	cert := selfSigned(t, "a.example.com", time.Now().Add(time.Hour))
	tbl := tableOf(t, tlsDomain("a.example.com", cert, nil))
	cur := tbl
	s := New(func() *table.Table { return cur }, nil)
	hello := &tls.ClientHelloInfo{ServerName: "A.example.com."}
	first, err := s.ForClient(hello)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := s.ForClient(hello); again != first {
		t.Error("the same table built a second configuration")
	}
	cur = tableOf(t, tlsDomain("a.example.com", cert, nil))
	if next, _ := s.ForClient(hello); next == first || next == nil {
		t.Error("a new table kept the old configuration")
	}
	if first.MinVersion != tls.VersionTLS12 || len(first.CipherSuites) != len(CipherSuites) || first.NextProtos[0] != "h2" {
		t.Errorf("configuration %+v is not TLS 1.2+, modern suites, h2", first)
	}
}

func TestMutualTLSHostsVerifyClientsAndNeverResumeSessions(t *testing.T) {
	pool := x509.NewCertPool()
	tbl := tableOf(t, tlsDomain("m.example.com", selfSigned(t, "m.example.com", time.Now().Add(time.Hour)), pool))
	s := New(func() *table.Table { return tbl }, nil)
	cfg, err := s.ForClient(&tls.ClientHelloInfo{ServerName: "m.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert || cfg.ClientCAs != pool || !cfg.SessionTicketsDisabled {
		t.Errorf("client auth %v, CAs set %v, tickets disabled %v", cfg.ClientAuth, cfg.ClientCAs == pool, cfg.SessionTicketsDisabled)
	}
}

func TestHandshakesBeforeTheFirstTableAreRefused(t *testing.T) {
	s := New(func() *table.Table { return nil }, nil)
	if _, err := s.ForClient(&tls.ClientHelloInfo{ServerName: "a.example.com"}); err == nil {
		t.Error("a handshake without a table succeeded")
	}
}
