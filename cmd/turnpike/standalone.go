package main

import (
	"context"
	"io"

	"github.com/go-logr/logr"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/controllers/standalone"
	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// runStandalone serves the YAML files of f.dir with no cluster: the watcher
// feeds snapshots to the same pipeline as serve mode, and conditions go to
// the log instead of status.
func runStandalone(ctx context.Context, f *standaloneFlags, log logr.Logger, accessLog io.Writer) error {
	var peers websocket.Peers
	if len(f.peers) > 0 {
		peers = websocket.StaticPeers(f.peers)
	}
	g := newGateway(&f.commonFlags, false, log, accessLog, peers, advertiseAddress(&f.commonFlags, ""))
	sink := &logSink{log: log.WithName("status")}
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

// logSink prints conditions that changed, standalone's stand-in for status.
type logSink struct {
	log    logr.Logger
	status standalone.StatusLog
}

// Publish is called by the pipeline from one goroutine at a time.
func (s *logSink) Publish(st []translate.ObjectStatus) { s.status.LogStatuses(s.log, st) }
