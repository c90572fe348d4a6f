package main

import (
	"context"
	"io"

	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/standalone"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// runStandalone serves the YAML files of f.dir with no cluster: the watcher
// feeds snapshots to the same pipeline as serve mode, and conditions that
// changed go to the log instead of status (standalone.StatusPrinter).
func runStandalone(ctx context.Context, f *standaloneFlags, log logr.Logger, accessLog io.Writer) error {
	var peers websocket.Peers
	if len(f.peers) > 0 {
		peers = websocket.StaticPeers(f.peers)
	}
	g := newGateway(&f.commonFlags, false, log, accessLog, peers, advertiseAddress(&f.commonFlags, ""))
	sink := standalone.NewStatusPrinter(log.WithName("status"))
	defer sink.Close() // prints what is still queued
	opts := g.translateOptions()
	opts.GracePeriod = -1 // no stored status to date a wait from: waits never turn Stalled
	w, err := standalone.NewWatcher(f.dir, log.WithName("files"))
	if err != nil {
		return err
	}
	p, err := controllers.NewPipelineWith(controllers.IncrementalTranslate(w.Sums), opts, g.dp, sink, log.WithName("pipeline"), g.reg,
		controllers.WithFingerprint(w.Fingerprint))
	if err != nil {
		return err
	}
	log.Info("standalone mode", "dir", f.dir, "http", f.httpAddr)
	return g.run(ctx, func(ctx context.Context) error { return w.Run(ctx, p.Apply) })
}
