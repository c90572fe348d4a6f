package dataplane

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// fetch sends GET url with c and returns status and body, failing on errors.
func fetch(t *testing.T, c *http.Client, url string) (int, string) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// plain sends GET path to the HTTP listener with Host host.
func plain(t *testing.T, g *gateway, host, path string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+g.http+path, nil)
	req.Host = host
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func TestCustomDomainsMapTheLongestBasePathAndStripIt(t *testing.T) {
	tbl := domainTable(t, true, domain("api.example.com", nil, mapTo("", "dev"), mapTo("v1", "prod"), mapTo("v1/beta", "secure")),
		domain("v2only.example.com", nil, mapTo("v2", "prod")))
	s := NewServer(Options{})
	s.Swap(tbl)
	for _, tc := range []struct {
		host, path string
		status     int
		body       string
	}{
		{"api.example.com", "/v1/pets", 200, "prod"},
		{"API.example.com:80", "/v1/pets/", 200, "prod"},
		{"api.example.com", "/v1/beta/pets", 200, "secure"},
		{"api.example.com", "/pets", 200, "dev"},
		{"api.example.com", "/v10/pets", 404, `{"message":"Not Found"}`},
		{"api.example.com", "/prod/pets", 404, `{"message":"Not Found"}`},
		{"v2only.example.com", "/v2/pets", 200, "prod"},
		{"v2only.example.com", "/pets", 404, `{"message":"Not Found"}`},
		{testHost, "/prod/pets", 200, "prod"},
	} {
		r := httptest.NewRequest("GET", "http://"+tc.host+tc.path, nil)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != tc.status || trimBody(w) != tc.body {
			t.Errorf("%s%s = %d %q, want %d %q", tc.host, tc.path, w.Code, trimBody(w), tc.status, tc.body)
		}
	}
}

func TestADisabledDefaultEndpointServesOnlyTheCustomDomain(t *testing.T) {
	s := NewServer(Options{})
	s.Swap(domainTable(t, false, domain("api.example.com", nil, mapTo("", "prod"))))
	if w := do(s, "GET", "/prod/pets", nil); w.Code != 404 {
		t.Errorf("default endpoint answered %d", w.Code)
	}
	r := httptest.NewRequest("GET", "http://api.example.com/pets", nil)
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	if w.Code != 200 || trimBody(w) != "prod" {
		t.Errorf("custom domain answered %d %q", w.Code, trimBody(w))
	}
}

func TestSNIPicksTheCertificateOfItsHostname(t *testing.T) {
	ca := newAuthority(t, "Server CA")
	g := startGateway(t, domainTable(t, true,
		domain("a.example.com", serverTLS(ca.issue(t, 0xa, "a", "a.example.com"), table.TLSVersion12, nil), mapTo("v1", "prod")),
		domain("b.example.com", serverTLS(ca.issue(t, 0xb, "b", "b.example.com"), table.TLSVersion12, nil), mapTo("", "dev"))))
	for sni, serial := range map[string]int64{"a.example.com": 0xa, "B.example.com": 0xb} {
		cs, err := g.handshake(sni, nil)
		if err != nil {
			t.Fatalf("%s: %v", sni, err)
		}
		if got := cs.PeerCertificates[0].SerialNumber.Int64(); got != serial {
			t.Errorf("%s: served serial %x, want %x", sni, got, serial)
		}
	}
	c := g.client(ca.pool)
	if st, body := fetch(t, c, "https://a.example.com/v1/pets"); st != 200 || body != "prod" {
		t.Errorf("a: %d %q", st, body)
	}
	if st, body := fetch(t, c, "https://b.example.com/pets"); st != 200 || body != "dev" {
		t.Errorf("b: %d %q", st, body)
	}
}

func TestUnknownServerNamesAreRefusedInTheHandshake(t *testing.T) {
	ca := newAuthority(t, "Server CA")
	g := startGateway(t, domainTable(t, true,
		domain("a.example.com", serverTLS(ca.issue(t, 1, "a", "a.example.com"), table.TLSVersion12, nil), mapTo("", "prod")),
		domain("plain.example.com", nil, mapTo("", "dev"))))
	for _, sni := range []string{"unknown.example.com", "plain.example.com", testHost, ""} {
		if _, err := g.handshake(sni, nil); err == nil {
			t.Errorf("server name %q: the handshake succeeded", sni)
		}
	}
	if _, err := g.handshake("a.example.com", nil); err != nil {
		t.Errorf("the known name was refused too: %v", err)
	}
}

func TestARotatedCertificateReachesNewHandshakesWhileOpenConnectionsCarryOn(t *testing.T) {
	ca := newAuthority(t, "Server CA")
	old := ca.issue(t, 1, "a", "a.example.com")
	g := startGateway(t, domainTable(t, true, domain("a.example.com", serverTLS(old, table.TLSVersion12, nil), mapTo("", "prod"))))
	c := g.client(ca.pool)
	res, err := c.Get("https://a.example.com/pets")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()

	g.s.Swap(domainTable(t, true, domain("a.example.com", serverTLS(ca.issue(t, 2, "a", "a.example.com"), table.TLSVersion12, nil), mapTo("", "prod"))))
	deadline := time.Now().Add(2 * time.Second)
	for {
		cs, err := g.handshake("a.example.com", &tls.Config{RootCAs: ca.pool})
		if err == nil && cs.PeerCertificates[0].SerialNumber.Int64() == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a new handshake did not get the rotated certificate within 2 s (err %v)", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	reused := false
	req, _ := http.NewRequest("GET", "https://a.example.com/pets", nil)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	}))
	res, err = c.Do(req)
	if err != nil {
		t.Fatalf("the open connection broke after the rotation: %v", err)
	}
	defer res.Body.Close()
	if !reused || res.StatusCode != 200 || res.TLS.PeerCertificates[0].SerialNumber.Int64() != 1 {
		t.Errorf("want the old connection (serial 1) to keep serving: reused %v, status %d, serial %v",
			reused, res.StatusCode, res.TLS.PeerCertificates[0].SerialNumber)
	}
}

func TestABrokenSecretFailsOnlyItsHostnameAndHealsLive(t *testing.T) {
	ca := newAuthority(t, "Server CA")
	good := domain("a.example.com", serverTLS(ca.issue(t, 1, "a", "a.example.com"), table.TLSVersion12, nil), mapTo("", "prod"))
	broken := domain("b.example.com", &table.TLS{Secret: "shop/b", MinVersion: table.TLSVersion12, Err: `Secret "b" not found`}, mapTo("", "dev"))
	g := startGateway(t, domainTable(t, true, good, broken))
	if _, err := g.handshake("b.example.com", nil); err == nil {
		t.Error("the broken hostname completed a handshake")
	}
	if st, body := fetch(t, g.client(ca.pool), "https://a.example.com/pets"); st != 200 || body != "prod" {
		t.Errorf("the good hostname: %d %q", st, body)
	}
	if st, body := plain(t, g, "b.example.com", "/pets"); st != 200 || body != "dev" {
		t.Errorf("plain HTTP to the broken hostname (TLS terminated in front): %d %q", st, body)
	}
	healed := domain("b.example.com", serverTLS(ca.issue(t, 2, "b", "b.example.com"), table.TLSVersion12, nil), mapTo("", "dev"))
	good = domain("a.example.com", serverTLS(ca.issue(t, 1, "a", "a.example.com"), table.TLSVersion12, nil), mapTo("", "prod"))
	g.s.Swap(domainTable(t, true, good, healed))
	if st, body := fetch(t, g.client(ca.pool), "https://b.example.com/pets"); st != 200 || body != "dev" {
		t.Errorf("the healed hostname: %d %q", st, body)
	}
}

func TestOldTLSVersionsAreRefusedAndTLS13IsEnforcedWhereAsked(t *testing.T) {
	ca := newAuthority(t, "Server CA")
	g := startGateway(t, domainTable(t, true,
		domain("a.example.com", serverTLS(ca.issue(t, 1, "a", "a.example.com"), table.TLSVersion12, nil), mapTo("", "prod")),
		domain("new.example.com", serverTLS(ca.issue(t, 2, "n", "new.example.com"), table.TLSVersion13, nil), mapTo("", "prod"))))
	if _, err := g.handshake("a.example.com", &tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}); err == nil {
		t.Error("TLS 1.1 completed a handshake")
	}
	cs, err := g.handshake("a.example.com", &tls.Config{RootCAs: ca.pool, MaxVersion: tls.VersionTLS12})
	if err != nil || cs.Version != tls.VersionTLS12 {
		t.Errorf("TLS 1.2 on a 1.2 hostname: %v, version %x", err, cs.Version)
	}
	if _, err := g.handshake("new.example.com", &tls.Config{RootCAs: ca.pool, MaxVersion: tls.VersionTLS12}); err == nil {
		t.Error("TLS 1.2 completed a handshake on a minVersion 1.3 hostname")
	}
	if cs, err := g.handshake("new.example.com", &tls.Config{RootCAs: ca.pool}); err != nil || cs.Version != tls.VersionTLS13 {
		t.Errorf("TLS 1.3: %v, version %x", err, cs.Version)
	}
}

// mtlsGateway serves stage secure on mtls.example.com (client CA clients)
// and stage prod on a.example.com, both over TLS.
func mtlsGateway(t *testing.T) (*gateway, *authority, *authority) {
	t.Helper()
	ca, clients := newAuthority(t, "Server CA"), newAuthority(t, "Client CA")
	g := startGateway(t, domainTable(t, true,
		domain("mtls.example.com", serverTLS(ca.issue(t, 1, "m", "mtls.example.com", "a.example.com"), table.TLSVersion12, clients), mapTo("", "secure")),
		domain("a.example.com", serverTLS(ca.issue(t, 2, "a", "a.example.com", "mtls.example.com"), table.TLSVersion12, nil), mapTo("", "prod"), mapTo("secure", "secure"))))
	return g, ca, clients
}

func TestMutualTLSAdmitsOnlyClientCertificatesOfItsCA(t *testing.T) {
	g, ca, clients := mtlsGateway(t)
	if st, body := fetch(t, g.client(ca.pool, clients.issue(t, 7, "client")), "https://mtls.example.com/pets"); st != 200 || body != "secure" {
		t.Errorf("good client certificate: %d %q", st, body)
	}
	foreign := newAuthority(t, "Foreign CA")
	for name, c := range map[string]*http.Client{
		"no client certificate":       g.client(ca.pool),
		"a certificate of another CA": g.client(ca.pool, foreign.issue(t, 7, "client")),
	} {
		if res, err := c.Get("https://mtls.example.com/pets"); err == nil {
			res.Body.Close()
			t.Errorf("%s: got %d, want the handshake refused", name, res.StatusCode)
		}
	}
}

func TestMutualTLSStagesCannotBeReachedAroundTheHandshake(t *testing.T) {
	g, ca, clients := mtlsGateway(t)
	if st, _ := plain(t, g, "mtls.example.com", "/pets"); st != 403 {
		t.Errorf("plain HTTP to the mTLS hostname: %d, want 403", st)
	}
	if st, _ := plain(t, g, testHost, "/secure/pets"); st != 403 {
		t.Errorf("the default endpoint of the mTLS stage: %d, want 403", st)
	}
	if st, body := plain(t, g, testHost, "/prod/pets"); st != 200 || body != "prod" {
		t.Errorf("another stage of the Api on the default endpoint: %d %q", st, body)
	}
	c := g.client(ca.pool, clients.issue(t, 7, "client"))
	if st, _ := fetch(t, c, "https://a.example.com/secure/pets"); st != 403 {
		t.Errorf("the mTLS stage through a domain without client certificates: %d, want 403", st)
	}
	// An HTTP/2 connection opened for a.example.com (no client certificate
	// asked), then reused for the mTLS hostname its certificate also covers.
	reused := false
	req, _ := http.NewRequest("GET", "https://mtls.example.com/pets", nil)
	req.Host = "mtls.example.com"
	res, err := c.Get("https://a.example.com/pets")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Proto != "HTTP/2.0" {
		t.Fatalf("the gateway did not speak HTTP/2: %s", res.Proto)
	}
	req.URL.Host = "a.example.com" // the client picks the pooled a.example.com connection
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused },
	}))
	res, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if !reused || res.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("reused %v, status %d, want the reused connection refused with 421", reused, res.StatusCode)
	}
}

func TestTheVerifiedClientCertificateIsOnTheExchange(t *testing.T) {
	clients := newAuthority(t, "Client CA")
	ca := newAuthority(t, "Server CA")
	tbl := domainTable(t, true, domain("mtls.example.com", serverTLS(ca.issue(t, 1, "m", "mtls.example.com"), table.TLSVersion12, clients), mapTo("", "secure")))
	cert := clients.issue(t, 4242, "client")
	r := httptest.NewRequest("GET", "https://mtls.example.com/pets", nil)
	r.TLS = &tls.ConnectionState{ServerName: "mtls.example.com", VerifiedChains: [][]*x509.Certificate{{cert.Leaf, clients.cert}}}
	x := &exchange{s: NewServer(Options{}), r: r, tbl: tbl}
	x.w.ResponseWriter = httptest.NewRecorder()
	if !x.checkPath() || !x.resolveHost() {
		t.Fatal("the request was refused")
	}
	cc := x.clientCert
	if cc.Leaf != cert.Leaf || cc.SubjectDN != "C=US,O=Example,CN=client" || cc.IssuerDN != "C=US,O=Turnpike Tests,CN=Client CA" || cc.SerialNumber != "4242" {
		t.Errorf("clientCert = %+v", cc)
	}
	if want := cert.Leaf.NotAfter.UTC().Format(validityTimestamp); cc.NotAfter != want || !strings.HasSuffix(cc.NotBefore, " GMT") {
		t.Errorf("validity %q..%q, want ..%q", cc.NotBefore, cc.NotAfter, want)
	}
}

func TestCurlReachesACustomDomainWithResolveAndCACert(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (apt-get install curl)")
	}
	ca := newAuthority(t, "Server CA")
	g := startGateway(t, domainTable(t, true, domain("api.example.com", serverTLS(ca.issue(t, 1, "api", "api.example.com"), table.TLSVersion12, nil), mapTo("v1", "prod"))))
	caFile := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(caFile, ca.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(g.https, ":")
	out, err := exec.Command(curl, "-sS", "--http2", "--resolve", "api.example.com:"+port+":127.0.0.1", "--cacert", caFile,
		"-w", " %{http_code} %{http_version}", "https://api.example.com:"+port+"/v1/pets").CombinedOutput()
	if err != nil || string(out) != "prod 200 2" {
		t.Errorf("curl: %v: %q, want %q", err, out, "prod 200 2")
	}
	out, err = exec.Command(curl, "-sS", "--resolve", "other.example.com:"+port+":127.0.0.1", "--cacert", caFile,
		"https://other.example.com:"+port+"/v1/pets").CombinedOutput()
	if err == nil {
		t.Errorf("curl to an unknown hostname succeeded: %q", out)
	}
}
