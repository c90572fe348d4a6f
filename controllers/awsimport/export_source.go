package awsimport

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/standalone"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// ExportFromDir exports Api api of namespace ns from the YAML files of dir,
// read and validated as standalone mode reads them. Files that fail to load
// are an error: an export must not silently miss Routes.
func ExportFromDir(dir, api, ns string) ([]byte, error) {
	snap, errs, err := standalone.Load(dir, logr.Discard())
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %w", dir, errs[0])
	}
	return exportSnapshot(snap, api, ns)
}

// ExportFromCluster exports Api api of namespace ns from the API server.
func ExportFromCluster(ctx context.Context, cfg *rest.Config, api, ns string) ([]byte, error) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, err
	}
	snap := &translate.Snapshot{}
	var apis v1alpha1.ApiList
	var routes v1alpha1.RouteList
	var authorizers v1alpha1.AuthorizerList
	for _, l := range []client.ObjectList{&apis, &routes, &authorizers} {
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("listing %T: %w", l, err)
		}
	}
	snap.Apis, snap.Routes, snap.Authorizers = apis.Items, routes.Items, authorizers.Items
	return exportSnapshot(snap, api, ns)
}

func exportSnapshot(snap *translate.Snapshot, api, ns string) ([]byte, error) {
	for _, a := range snap.Apis {
		if a.Name == api && a.Namespace == ns {
			return Export(ExportInput{Api: a, Routes: snap.Routes, Authorizers: snap.Authorizers})
		}
	}
	return nil, fmt.Errorf("no Api %q in namespace %q", api, ns)
}
