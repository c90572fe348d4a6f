package proxy

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
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
		// The direct path's bound (connpool.go); it also bounds the
		// headers of all 1xx responses together (a 1xx flood).
		MaxResponseHeaderBytes: maxResponseHeaderBytes,
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

// limit1xx bounds the informational (1xx) responses a backend may send
// before its final one on the ReverseProxy path, as the direct path does
// (max1xx): ReverseProxy relays every 1xx and http.Transport leaves their
// number to whoever sees them, so without this a backend could stream 1xx
// responses until the integration timeout. Past the bound the transport
// fails the attempt (a 502).
func limit1xx(ctx context.Context) context.Context {
	var n atomic.Int32
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		Got1xxResponse: func(int, textproto.MIMEHeader) error {
			if n.Add(1) > max1xx {
				return errors.New("backend sent more than 5 informational (1xx) responses")
			}
			return nil
		},
	})
}

// trackedBody wraps the client's request body for the transport. Close does
// nothing, so a failed attempt (the transport closes the body on a dial
// error) leaves the body usable for the next endpoint; the server closes the
// real body when the handler returns. It records whether any Read happened
// (then a retry would lose bytes), whether a Read is waiting on the client
// now, and the first read error (to tell the client's fault, a body over the
// limit, malformed or late, from a backend failure). Reads happen on the
// transport's goroutine, hence the atomics. All methods accept a nil
// receiver (no body).
//
// The body must arrive within the integration timeout, as on the direct
// path: the first Read puts that deadline on the client's connection (w's
// ResponseController), and the end of the body removes it, so a response
// streamed after the body is never cut by it. After a read error the
// deadline stays: what remains of the body is not waited for (the server
// closes the connection after the answer). The transport may still read
// the body after Forward returned (a backend that answered early); from
// then on (finish) w, which may already serve another request, is never
// touched.
type trackedBody struct {
	rc       io.ReadCloser
	deadline time.Time
	mu       sync.Mutex
	w        http.ResponseWriter // the client's; nil: no deadline (after finish, or test writers)
	read     atomic.Bool
	reading  atomic.Bool
	ended    atomic.Bool
	// lastRead is when the last Read returned (UnixNano): between two
	// reads of a trickling body the transport is only forwarding the
	// bytes, so the client is still the one awaited (waiting).
	lastRead atomic.Int64
	fault    atomic.Pointer[error]
}

// Read implements io.Reader.
func (b *trackedBody) Read(p []byte) (int, error) {
	if !b.read.Swap(true) {
		b.setDeadline(b.deadline)
	}
	b.reading.Store(true)
	n, err := b.rc.Read(p)
	b.lastRead.Store(time.Now().UnixNano())
	b.reading.Store(false)
	switch {
	case err == io.EOF:
		if !b.ended.Swap(true) {
			b.setDeadline(time.Time{})
		}
	case err != nil:
		b.ended.Store(true)
		b.fault.CompareAndSwap(nil, &err)
	}
	return n, err
}

// setDeadline sets the client connection's read deadline while Forward runs.
func (b *trackedBody) setDeadline(t time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.w != nil {
		_ = http.NewResponseController(b.w).SetReadDeadline(t) // unsupported only by test writers
	}
}

// finish is called when Forward returns: the body no longer touches w.
func (b *trackedBody) finish() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.w = nil
	b.mu.Unlock()
}

// Close implements io.Closer and does nothing (see the type's comment).
func (b *trackedBody) Close() error { return nil }

func (b *trackedBody) touched() bool { return b != nil && b.read.Load() }

// readGap is how long after a Read returned the body still counts as
// awaited: the transport hands the bytes to the backend and reads again in
// microseconds, unless the backend stopped reading (then it is the slow one).
const readGap = 50 * time.Millisecond

// waiting reports a body still being awaited from the client: a Read
// blocked on it right now, or one that returned a moment ago (the next one
// is on its way). When the integration times out meanwhile, the client was
// the one too slow; a backend that stopped reading the body leaves the last
// Read long past.
func (b *trackedBody) waiting() bool {
	if b == nil || b.ended.Load() || !b.read.Load() {
		return false
	}
	return b.reading.Load() || time.Since(time.Unix(0, b.lastRead.Load())) < readGap
}

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
