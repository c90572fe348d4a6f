package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

const domainObjects = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: pets, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /pets
  integration: {type: MOCK, mock: {statusCode: 200, body: pets}}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec:
  apiName: pets
  domains:
    - {hostname: api.example.com, basePath: v1, tls: {secretName: api-tls}}
`

// A second namespace tries a longer basePath under the hostname shop owns.
const intruderObjects = `apiVersion: v1
kind: Namespace
metadata: {name: zoo}
---
apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: toys, namespace: zoo}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: zoo}
spec:
  apiName: toys
  domains:
    - {hostname: api.example.com, basePath: v1/toys}
`

// selfSignedPEM returns a certificate for host and its key, PEM-encoded.
func selfSignedPEM(t *testing.T, host string) (certPEM, keyPEM []byte) {
	return harness.SelfSignedPEM(t, host)
}

func stageCondition(t *testing.T, c *cluster, ns, name, typ string) string {
	out, _ := c.kubectl(t, "get", "stages.turnpike.io/"+name, "-n", ns, "-o",
		fmt.Sprintf(`jsonpath={.status.conditions[?(@.type==%q)].status}/{.status.conditions[?(@.type==%q)].reason}`, typ, typ))
	return out
}

// TestServeModeServesACustomDomainOnceItsSecretAppears applies a Stage whose
// TLS Secret does not exist yet (not Ready, Reconciling, handshakes refused),
// then the Secret: the Stage goes Ready, lists the https invoke URL and
// serves over HTTPS. A second namespace claiming a longer basePath under the
// hostname gets DomainConflict.
func TestServeModeServesACustomDomainOnceItsSecretAppears(t *testing.T) {
	c := startCluster(t)
	applyYAML(t, c, domainObjects)
	g := startGateway(t, "serve", "--kubeconfig="+c.kubeconfig, "--leader-elect=false")
	waitFor(t, c, "Stage waiting for its Secret", func() (bool, string) {
		got := stageCondition(t, c, "shop", "prod", "Ready") + " " + stageCondition(t, c, "shop", "prod", "Reconciling")
		return got == "False/SecretNotFound True/WaitingForDependencies", got
	})
	certPEM, keyPEM := selfSignedPEM(t, "api.example.com")
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.https)
		},
	}}
	if res, err := client.Get("https://api.example.com/v1/pets"); err == nil {
		res.Body.Close()
		t.Fatalf("HTTPS without a Secret answered %d; want the handshake refused", res.StatusCode)
	}

	applyYAML(t, c, fmt.Sprintf("apiVersion: v1\nkind: Secret\nmetadata: {name: api-tls, namespace: shop}\ntype: kubernetes.io/tls\ndata: {tls.crt: %s, tls.key: %s}\n",
		base64.StdEncoding.EncodeToString(certPEM), base64.StdEncoding.EncodeToString(keyPEM)))
	if out, err := c.kubectl(t, "wait", "--for=condition=Ready", "--timeout=60s", "-n", "shop", "stages.turnpike.io/prod"); err != nil {
		t.Fatalf("the Stage did not go Ready after its Secret appeared: %v\n%s", err, out)
	}
	urls, _ := c.kubectl(t, "get", "stages.turnpike.io/prod", "-n", "shop", "-o", "jsonpath={.status.invokeURLs}")
	if !strings.Contains(urls, `"https://api.example.com/v1"`) {
		t.Errorf("invokeURLs %s lack https://api.example.com/v1", urls)
	}
	harness.Eventually(t, 10*time.Second, "HTTPS to the custom domain", func() error {
		res, err := client.Get("https://api.example.com/v1/pets")
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || string(body) != "pets" {
			return fmt.Errorf("%d %q", res.StatusCode, body)
		}
		return nil
	})

	applyYAML(t, c, intruderObjects)
	waitFor(t, c, "DomainConflict in the second namespace", func() (bool, string) {
		got := stageCondition(t, c, "zoo", "prod", "Ready") + " " + stageCondition(t, c, "zoo", "prod", "Stalled")
		return got == "False/DomainConflict True/DomainConflict", got
	})
	if got := stageCondition(t, c, "shop", "prod", "Ready"); got != "True/Ready" {
		t.Errorf("the owner's Stage: %s", got)
	}
}
