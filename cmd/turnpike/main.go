// Command turnpike is the Turnpike API gateway: `turnpike serve` runs in a
// cluster and reconciles the CRDs from the API server; `turnpike standalone -f
// DIR` serves the same YAML from files, with no cluster.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-logr/logr"
)

const usage = `usage:
  turnpike serve [flags]            run in a cluster (watches the API server)
  turnpike standalone -f DIR [flags] serve the YAML files of DIR, no cluster
  turnpike import [flags] FILE       AWS OpenAPI export or SAM/CloudFormation template -> YAML
  turnpike export --api A --namespace N (-f DIR | --kubeconfig F)   an Api as OpenAPI 3.0
  turnpike <mode> -h                 list the flags of a mode
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var err error
	switch args[0] {
	case "serve":
		var f *serveFlags
		if f, err = parseServeFlags(args[1:]); err == nil {
			log := newLogger(f.logFormat, stderr)
			tuneRuntime(log)
			err = runServe(ctx, f, log, stdout)
		}
	case "standalone":
		var f *standaloneFlags
		if f, err = parseStandaloneFlags(args[1:]); err == nil {
			log := newLogger(f.logFormat, stderr)
			tuneRuntime(log)
			err = runStandalone(ctx, f, log, stdout)
		}
	case "import":
		err = runImport(args[1:], os.Stdin, stdout, stderr)
	case "export":
		err = runExport(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown mode %q\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "turnpike: %v\n", err)
		return 1
	}
	return 0
}

// newLogger returns the process logger: slog's JSON or text handler behind logr.
// Access logs go to stdout; these operational logs go to stderr.
func newLogger(format string, w io.Writer) logr.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var h slog.Handler = slog.NewJSONHandler(w, opts)
	if format == "text" {
		h = slog.NewTextHandler(w, opts)
	}
	return logr.FromSlogHandler(h)
}
