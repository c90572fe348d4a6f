package awsimport

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// The import's YAML is what a real kube-apiserver accepts (kubectl apply of
// stdout), and `export --kubeconfig` of the applied objects is the same
// document as `export -f` of the files.
func TestImportAppliesToARealAPIServerAndExportsFromIt(t *testing.T) {
	if os.Getenv("TURNPIKE_SKIP_ENVTEST") == "1" {
		t.Skip("TURNPIKE_SKIP_ENVTEST=1: skipping tests that need a kube-apiserver")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	assets := filepath.Join(root, "bin", "k8s")
	for _, bin := range []string{"kube-apiserver", "etcd"} {
		if _, err := os.Stat(filepath.Join(assets, bin)); err != nil {
			t.Fatalf("envtest binary %s is missing in %s: run `make test` or hack/envtest-assets.sh (or set TURNPIKE_SKIP_ENVTEST=1)", bin, assets)
		}
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, ErrorIfCRDPathMissing: true,
		CRDDirectoryPaths: []string{filepath.Join(root, "config", "crd", "bases")}}
	cfg, err := env.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Stop() })
	c, err := client.New(cfg, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i, fc := range fixtureCases {
		// A namespace each: SAM's examples all call their Api MyApi.
		ns := fmt.Sprintf("fixture-%d", i)
		if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
		fc.opts.Namespace = ns
		res := mustImport(t, fc.file, fc.opts)
		out := yamlOf(t, res)
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
		for {
			u := &unstructured.Unstructured{}
			if err := dec.Decode(&u.Object); err != nil {
				break
			}
			if len(u.Object) == 0 {
				continue
			}
			if err := c.Create(ctx, u); err != nil {
				t.Fatalf("%s: the API server refused %s %q: %v", fc.file, u.GetKind(), u.GetName(), err)
			}
		}
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "api.yaml"), out, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, api := range res.Apis {
			fromFiles, err := ExportFromDir(dir, api.Name, ns)
			if err != nil {
				t.Fatal(err)
			}
			fromCluster, err := ExportFromCluster(ctx, cfg, api.Name, ns)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(fromFiles, fromCluster) {
				t.Errorf("%s: export from the cluster differs from export of the files:\n%s\n---\n%s", fc.file, fromCluster, fromFiles)
			}
		}
	}
}
