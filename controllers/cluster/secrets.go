package cluster

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/turnpike-io/turnpike/controllers"
)

// secretInformers are client-go informers on Secrets, one per type the
// gateway reads (kubernetes.io/tls, turnpike.io/api-key,
// turnpike.io/aws-credentials). A field selector cannot OR two values, and
// controller-runtime's cache allows one selector per type, hence one
// factory per type. Both run controllers.TransformSecret, so API-key
// values are hashed before they reach the cache.
type secretInformers struct {
	factories []informers.SharedInformerFactory
	informers []toolscache.SharedIndexInformer
	listers   []corelisters.SecretLister
}

func newSecretInformers(cfg *rest.Config, namespace string, handler toolscache.ResourceEventHandler) (*secretInformers, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("cluster source: clientset: %w", err)
	}
	si := &secretInformers{}
	for _, typ := range []corev1.SecretType{controllers.SecretTypeTLS, controllers.SecretTypeAPIKey, controllers.SecretTypeAWSCredentials} {
		selector := fields.OneTermEqualSelector("type", string(typ)).String()
		opts := []informers.SharedInformerOption{
			informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.FieldSelector = selector }),
		}
		if namespace != "" {
			opts = append(opts, informers.WithNamespace(namespace))
		}
		f := informers.NewSharedInformerFactoryWithOptions(cs, 0, opts...)
		inf := f.Core().V1().Secrets()
		if err := inf.Informer().SetTransform(controllers.TransformSecret); err != nil {
			return nil, fmt.Errorf("cluster source: secret transform: %w", err)
		}
		if _, err := inf.Informer().AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("cluster source: secret handler: %w", err)
		}
		si.factories = append(si.factories, f)
		si.informers = append(si.informers, inf.Informer())
		si.listers = append(si.listers, inf.Lister())
	}
	return si, nil
}

func (si *secretInformers) start(ctx context.Context) {
	for _, f := range si.factories {
		f.Start(ctx.Done())
	}
}

// shutdown waits for the informer goroutines after their context is done.
func (si *secretInformers) shutdown() {
	for _, f := range si.factories {
		f.Shutdown()
	}
}

// waitForSync blocks until every informer synced or ctx is done.
func (si *secretInformers) waitForSync(ctx context.Context) bool {
	for _, f := range si.factories {
		for _, ok := range f.WaitForCacheSync(ctx.Done()) {
			if !ok {
				return false
			}
		}
	}
	return true
}

func (si *secretInformers) hasSynced() bool {
	for _, inf := range si.informers {
		if !inf.HasSynced() {
			return false
		}
	}
	return true
}

// list returns the cached Secrets of every type (shallow copies: the caller
// must not mutate their maps).
func (si *secretInformers) list() ([]corev1.Secret, error) {
	var out []corev1.Secret
	for _, l := range si.listers {
		items, err := l.List(labels.Everything())
		if err != nil {
			return nil, fmt.Errorf("list secrets from cache: %w", err)
		}
		for _, s := range items {
			out = append(out, *s)
		}
	}
	return out, nil
}
