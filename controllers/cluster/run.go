package cluster

import (
	"context"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
)

// Run is the whole in-cluster source for `turnpike serve`: it builds a Source
// feeding p, runs w (which may be nil) beside it, and blocks until ctx is done.
// p's first Swap happens only after every watch has listed, so cmd's
// readiness (the dataplane's first table, or p.Ready()) stays false until then.
func Run(ctx context.Context, cfg *rest.Config, opts Options, p Applier, w *StatusWriter, log logr.Logger, reg prometheus.Registerer) error {
	src, err := NewSource(cfg, opts, p, log, reg)
	if err != nil {
		return err
	}
	if w != nil {
		w.UseCache(src.Cached)
		src.OnUpdate(w.Recheck) // a cached copy that lagged is checked again
		if err := src.Manager().Add(w); err != nil {
			return err
		}
	}
	return src.Start(ctx)
}
