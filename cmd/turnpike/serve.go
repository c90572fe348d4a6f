package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/cluster"
)

// runServe runs in a cluster: every replica watches the API server and serves
// traffic; the status writer writes only while it holds the Lease.
func runServe(ctx context.Context, f *serveFlags, log logr.Logger, accessLog io.Writer) error {
	ctrl.SetLogger(log)
	klog.SetLogger(log.WithName("client-go"))
	cfg, err := restConfig(f.kubeconfig)
	if err != nil {
		return err
	}
	// Status writes, Leases and Events; the watches lift the limit for
	// themselves (cluster.NewSource).
	cfg.QPS, cfg.Burst = float32(f.kubeAPIQPS), f.kubeAPIBurst
	advertise := advertiseAddress(&f.commonFlags, os.Getenv("POD_IP"))
	// One identity for both Leases of this process (status and replica).
	opts := cluster.Options{Namespace: f.namespace, LeaderElect: f.leaderElect, LeaseNamespace: f.leaseNamespace,
		Identity: cluster.NewIdentity(), NoHTTPSListener: f.httpsAddr == "", PeerAddress: advertise,
		Sums: cluster.NewSums()}
	// WebSocket @connections calls for another replica's connection are
	// forwarded to the address its replica Lease publishes.
	peers, err := cluster.NewLeasePeers(cfg, opts)
	if err != nil {
		return err
	}
	g := newGateway(&f.commonFlags, true, log, accessLog, peers, advertise)
	sw, err := cluster.NewStatusWriter(cfg, opts, g.reg, log.WithName("status"))
	if err != nil {
		return err
	}
	// Replicas wraps the dataplane: each swap is recorded in this replica's
	// Lease, and the status leader counts them into Api.status.dataplane.
	rep, err := cluster.NewReplicas(cfg, opts, g.dp, log.WithName("replicas"))
	if err != nil {
		return err
	}
	sw.TrackReplicas(rep)
	g.warnings = sw.Warnings
	// Per-object fingerprints: a change retranslates only the Apis it touches.
	p, err := controllers.NewPipelineWith(controllers.IncrementalTranslate(opts.Sums.Of), g.translateOptions(), rep, sw,
		log.WithName("pipeline"), g.reg, controllers.WithFingerprint(opts.Sums.Fingerprint))
	if err != nil {
		return err
	}
	log.Info("serve mode", "namespace", f.namespace, "leaderElect", f.leaderElect, "http", f.httpAddr)
	return g.run(ctx, func(ctx context.Context) error {
		return cluster.Run(ctx, cfg, opts, p, sw, log.WithName("cluster"), g.reg)
	})
}

// restConfig: --kubeconfig, else in-cluster, else $KUBECONFIG / ~/.kube/config.
func restConfig(path string) (*rest.Config, error) {
	if path == "" {
		if cfg, err := rest.InClusterConfig(); err == nil {
			return cfg, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = path
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, nil).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("no Kubernetes API access (use --kubeconfig, run in a cluster, or set KUBECONFIG): %w", err)
	}
	return cfg, nil
}
