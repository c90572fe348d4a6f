package e2e

import (
	"fmt"

	"github.com/turnpike-io/turnpike/test/harness"

	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/go-logr/logr"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// cluster is one real kube-apiserver and etcd (built by hack/envtest-assets.sh)
// with the CRDs installed, plus a kubeconfig file for the binary and kubectl.
type cluster struct {
	env        *envtest.Environment
	client     client.Client
	clientset  kubernetes.Interface
	kubeconfig string
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	logf.SetLogger(logr.Discard())
	root := harness.RepoRoot()
	assets := filepath.Join(root, "bin", "k8s")
	if _, err := os.Stat(filepath.Join(assets, "kube-apiserver")); err != nil {
		t.Fatalf("envtest binaries missing in %s: run `make test` (or hack/envtest-assets.sh) first", assets)
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	// A fixed CertDir keeps the serving certificate across an API server
	// restart, as a real control plane does; envtest regenerates it otherwise.
	env.ControlPlane.GetAPIServer().CertDir = t.TempDir()
	cfg, err := env.Start()
	if err != nil {
		t.Fatalf("start envtest: %v", err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	s := scheme.Scheme
	if err := v1alpha1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: s})
	if err != nil {
		t.Fatal(err)
	}
	user, err := env.AddUser(envtest.User{Name: "e2e-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &cluster{env: env, client: c, clientset: cs, kubeconfig: path}
}

// kubectl runs kubectl against the cluster and returns its combined output.
func (c *cluster) kubectl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("kubectl", append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %v: %w: %s", args, err, out)
	}
	return string(out), nil
}
