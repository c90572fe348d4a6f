package helm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/turnpike-io/turnpike/test/harness"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// apiServer is one real kube-apiserver and etcd shared by the tests of this
// package (started on first use, stopped by TestMain), with no CRDs: the
// tests install them with helm and kubectl.
type apiServer struct {
	env        *envtest.Environment
	kubeconfig string
	dir        string
}

var (
	serverOnce sync.Once
	server     *apiServer
	serverErr  error
)

// startCluster returns the shared API server, starting it on first use.
func startCluster(t *testing.T) *apiServer {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = newAPIServer() })
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	return server
}

// newAPIServer starts envtest from bin/k8s and writes an admin kubeconfig.
func newAPIServer() (*apiServer, error) {
	logf.SetLogger(logr.Discard())
	assets := filepath.Join(harness.RepoRoot(), "bin", "k8s")
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		return nil, fmt.Errorf("envtest binaries missing in %s: run `make envtest` (make test does it)", assets)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	if _, err := env.Start(); err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	s := &apiServer{env: env}
	user, err := env.AddUser(envtest.User{Name: "helm-admin", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		var kc []byte
		if kc, err = user.KubeConfig(); err == nil {
			if s.dir, err = os.MkdirTemp("", "turnpike-helm-kube-"); err == nil {
				s.kubeconfig = filepath.Join(s.dir, "kubeconfig")
				err = os.WriteFile(s.kubeconfig, kc, 0o600)
			}
		}
	}
	if err != nil {
		_ = env.Stop()
		return nil, err
	}
	return s, nil
}

// stopCluster stops the shared API server if a test started it.
func stopCluster() {
	if server != nil {
		_ = server.env.Stop()
		_ = os.RemoveAll(server.dir)
	}
}

// kubectl runs kubectl against the API server and returns its stdout.
func (s *apiServer) kubectl(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", s.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			stderr = string(ee.Stderr)
		}
		return string(out), fmt.Errorf("kubectl %s: %w\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return string(out), nil
}

// mustKubectl is kubectl that fails the test on error.
func (s *apiServer) mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := s.kubectl(t, stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// helm runs helm against the API server.
func (s *apiServer) helm(t *testing.T, args ...string) string {
	t.Helper()
	return mustHelm(t, append([]string{"--kubeconfig", s.kubeconfig}, args...)...)
}

// exists reports whether kubectl finds the object kind/name in ns ("" for cluster-scoped).
func (s *apiServer) exists(t *testing.T, ns, kind, name string) bool {
	t.Helper()
	args := []string{"get", kind, name, "--ignore-not-found", "-o", "name"}
	if ns != "" {
		args = append(args, "-n", ns)
	}
	return strings.TrimSpace(s.mustKubectl(t, "", args...)) != ""
}
