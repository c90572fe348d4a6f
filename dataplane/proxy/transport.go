package proxy

import (
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// Pool limits shared by the transport and the direct path's pool.
const (
	maxIdlePerHost  = 256
	idleConnTimeout = 90 * time.Second
)

// newTransport builds the one transport all integrations share, dialing
// through d (the egress guard). Proxy is nil on purpose: environment proxy
// variables must not redirect backend traffic. Compression is disabled so
// bodies pass through byte for byte.
func newTransport(d *net.Dialer) *http.Transport {
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
		DisableCompression:    true,
	}
}

// bufferPool lends 32 KiB copy buffers to the ReverseProxy.
type bufferPool struct{ p sync.Pool }

const bufferSize = 32 << 10

// Get implements httputil.BufferPool.
func (b *bufferPool) Get() []byte {
	if v, ok := b.p.Get().(*[]byte); ok {
		return *v
	}
	return make([]byte, bufferSize)
}

// Put implements httputil.BufferPool.
func (b *bufferPool) Put(buf []byte) {
	if cap(buf) == bufferSize {
		buf = buf[:bufferSize]
		b.p.Put(&buf)
	}
}

// trackedBody wraps the client's request body for the transport. Close does
// nothing, so a failed attempt (the transport closes the body on a dial
// error) leaves the body usable for the next endpoint; the server closes the
// real body when the handler returns. It records whether any Read happened
// (then a retry would lose bytes) and the first read error (to tell a body
// over the limit from a backend failure). Reads happen on the transport's
// goroutine, hence the atomics. All methods accept a nil receiver (no body).
type trackedBody struct {
	rc    io.ReadCloser
	read  atomic.Bool
	fault atomic.Pointer[error]
}

// Read implements io.Reader.
func (b *trackedBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF {
		b.fault.CompareAndSwap(nil, &err)
	}
	return n, err
}

// Close implements io.Closer and does nothing (see the type's comment).
func (b *trackedBody) Close() error { return nil }

func (b *trackedBody) touched() bool { return b != nil && b.read.Load() }

func (b *trackedBody) readErr() error {
	if b == nil {
		return nil
	}
	if e := b.fault.Load(); e != nil {
		return *e
	}
	return nil
}

// logWriter adapts the ReverseProxy's *log.Logger output to logr.
type logWriter struct{ log logr.Logger }

// Write implements io.Writer: one log line per call.
func (w logWriter) Write(p []byte) (int, error) {
	w.log.Info(strings.TrimSpace(string(p)))
	return len(p), nil
}
