package main

import (
	"errors"
	"flag"

	"github.com/turnpike-io/turnpike/dataplane"
)

// limitFlags are the client-connection limits of the traffic listeners
// (dataplane.Limits; docs/security.md), both modes.
type limitFlags struct {
	maxConnections int
	lim            dataplane.Limits
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.maxConnections, "max-connections", dataplane.DefaultMaxConnections,
		"open client connections on the HTTP and HTTPS listeners together; at the limit the longest-idle keep-alive connection is closed to admit a new one (0: no limit)")
	fs.DurationVar(&l.lim.ReadHeaderTimeout, "read-header-timeout", dataplane.DefaultReadHeaderTimeout,
		"time a client has to send a request's headers (and to complete a TLS handshake)")
	fs.DurationVar(&l.lim.IdleTimeout, "idle-timeout", dataplane.DefaultIdleTimeout, "close a keep-alive connection idle this long")
	fs.IntVar(&l.lim.MaxHeaderBytes, "max-header-bytes", dataplane.DefaultMaxHeaderBytes,
		"largest request line and headers; larger is answered 431")
}

func (l *limitFlags) validate() error {
	if l.maxConnections < 0 || l.lim.ReadHeaderTimeout <= 0 || l.lim.IdleTimeout <= 0 || l.lim.MaxHeaderBytes < 1024 {
		return errors.New("--max-connections must be 0 or more, --read-header-timeout and --idle-timeout positive, --max-header-bytes at least 1024")
	}
	return nil
}

// limits returns the dataplane's Limits (0 connections: unlimited).
func (l *limitFlags) limits() dataplane.Limits {
	out := l.lim
	out.MaxConnections = l.maxConnections
	if out.MaxConnections == 0 {
		out.MaxConnections = -1
	}
	return out
}
