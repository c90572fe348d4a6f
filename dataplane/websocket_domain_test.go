package dataplane

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// wss:// on a custom domain with TLS: the connection opens on the
// mapping's base path, and @connections is served there too, signed for
// the domain's host over HTTPS.
func TestWebSocketOnACustomDomainOverTLS(t *testing.T) {
	ca := newAuthority(t, "ca")
	const host = "chat.example.com"
	echo := &table.Route{Key: "$default", Object: "shop/echo", ReturnResponse: true,
		Integration: table.Integration{Type: table.IntegrationMock, Mock: &table.Mock{Status: 200, Body: "over tls"}}}
	api := chatApi(t, echo)
	d := domain(host, serverTLS(ca.issue(t, 2, host, host), "1.2", nil), &table.Mapping{BasePath: "v1", Namespace: "shop", Api: "chat", Stage: "prod"})
	tbl, err := table.NewWithDomains([]*table.Api{api}, nil, []*table.Domain{d})
	if err != nil {
		t.Fatal(err)
	}
	g := startGateway(t, tbl)
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: ca.pool},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.https)
		},
	}, Timeout: 5 * time.Second}
	c, _, err := ws.Dial(t.Context(), "wss://"+host+"/v1", &ws.DialOptions{HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.CloseNow() }()
	sendText(t, c, "hi")
	if _, msg := read(t, c); msg != "over tls" {
		t.Errorf("reply %q", msg)
	}
	ids := g.s.ws.IDs()
	if len(ids) != 1 {
		t.Fatalf("open connections %v", ids)
	}
	body := "pushed over tls"
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "https://"+host+"/v1/@connections/"+ids[0], strings.NewReader(body))
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(t.Context(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}, req,
		hex.EncodeToString(sum[:]), "execute-api", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST over the domain = %d", resp.StatusCode)
	}
	if _, msg := read(t, c); msg != body {
		t.Errorf("pushed %q", msg)
	}
}
