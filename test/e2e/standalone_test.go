package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/test/harness"
)

const standaloneApi = `apiVersion: turnpike.io/v1alpha1
kind: Api
metadata: {name: pets, namespace: shop}
---
apiVersion: turnpike.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: shop}
spec: {apiName: pets}
`

const standaloneRoute = `apiVersion: turnpike.io/v1alpha1
kind: Route
metadata: {name: hello, namespace: shop}
spec:
  apiName: pets
  routeKey: GET /hello
  integration:
    type: MOCK
    mock: {body: BODY}
`

// TestStandaloneBinaryHotSwapsFilesAndKeepsTheLastGoodVersion runs the built
// binary on a directory: a file change goes live, a file that a CEL rule
// rejects leaves its last good version serving.
func TestStandaloneBinaryHotSwapsFilesAndKeepsTheLastGoodVersion(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	write("api.yaml", standaloneApi)
	write("route.yaml", strings.Replace(standaloneRoute, "BODY", "first", 1))
	g := startGateway(t, "standalone", "-f", dir)
	g.expect(t, "/prod/hello", 200, "first")

	write("route.yaml", strings.Replace(standaloneRoute, "BODY", "second", 1))
	g.expect(t, "/prod/hello", 200, "second")

	// routeKey "FETCH /hello" breaks a CEL rule: the file is refused, logged,
	// and its last good version keeps serving.
	bad := strings.Replace(strings.Replace(standaloneRoute, "BODY", "third", 1), "GET /hello", "FETCH /hello", 1)
	write("route.yaml", bad)
	harness.Eventually(t, 10*time.Second, "the CEL message in the log", func() error {
		if !strings.Contains(g.out.String(), "routeKey must be") {
			return os.ErrNotExist
		}
		return nil
	})
	g.expect(t, "/prod/hello", 200, "second")
}
