package hardening

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// h2conn is a raw HTTP/2 client connection to the gateway's TLS listener:
// the tests write frames a well-behaved client never would.
type h2conn struct {
	c      *tls.Conn
	fr     *http2.Framer
	enc    *hpack.Encoder
	hb     bytes.Buffer
	goaway atomic.Value // http2.ErrCode of a GOAWAY received
	closed chan struct{}
	frames atomic.Int64
}

func (e *env) dialH2(t *testing.T, roots *x509.CertPool) *h2conn {
	t.Helper()
	c := e.dialTLS(t, roots, "h2")
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN negotiated %q, want h2", p)
	}
	h := &h2conn{c: c, fr: http2.NewFramer(c, c), closed: make(chan struct{})}
	h.enc = hpack.NewEncoder(&h.hb)
	if _, err := io.WriteString(c, http2.ClientPreface); err != nil {
		t.Fatal(err)
	}
	if err := h.fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	// The server's SETTINGS is read and acknowledged here, before the
	// reader starts: a Framer's writes share one buffer, so the reader must
	// never write while a test does (that was a "short write" flake).
	for acked := false; !acked; {
		f, err := h.fr.ReadFrame()
		if err != nil {
			t.Fatalf("reading the server's SETTINGS: %v", err)
		}
		h.note(f)
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			if err := h.fr.WriteSettingsAck(); err != nil {
				t.Fatal(err)
			}
			acked = true
		}
	}
	go func() { // read until the server closes; it writes nothing
		defer close(h.closed)
		for {
			f, err := h.fr.ReadFrame()
			if err != nil {
				return
			}
			h.note(f)
		}
	}()
	return h
}

// note counts a frame read from the server and keeps a GOAWAY's code.
func (h *h2conn) note(f http2.Frame) {
	h.frames.Add(1)
	if g, ok := f.(*http2.GoAwayFrame); ok {
		h.goaway.Store(g.ErrCode)
	}
}

// headerBlock encodes a GET of path plus extra fields.
func (h *h2conn) headerBlock(path string, extra ...hpack.HeaderField) []byte {
	h.hb.Reset()
	for _, f := range append([]hpack.HeaderField{{Name: ":method", Value: "GET"}, {Name: ":scheme", Value: "https"},
		{Name: ":authority", Value: tlsHost}, {Name: ":path", Value: path}}, extra...) {
		_ = h.enc.WriteField(f)
	}
	return bytes.Clone(h.hb.Bytes())
}

// TestHTTP2RapidResetIsBounded opens streams and cancels each at once
// (CVE-2023-44487) as fast as one connection allows: the gateway's handler
// goroutines stay bounded, memory stays under the ceiling, the connection is
// refused more streams or closed, and a new connection is served.
func TestHTTP2RapidResetIsBounded(t *testing.T) {
	y, roots := tlsFixture(t)
	e := start(t, y)
	h := e.dialH2(t, roots)
	stop := make(chan struct{})
	peak := e.goroutines(t, stop)
	const streams = 50000
	sent := 0
	deadline := time.Now().Add(5 * time.Second)
	_ = h.c.SetWriteDeadline(deadline) // a server that stops reading blocks the writes
	block := h.headerBlock("/v1/direct/rr")
	for i := range streams {
		id := uint32(2*i + 1)
		if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true}); err != nil {
			break
		}
		if err := h.fr.WriteRSTStream(id, http2.ErrCodeCancel); err != nil {
			break
		}
		sent++
		if time.Now().After(deadline) {
			break
		}
	}
	select {
	case <-h.closed:
	case <-time.After(2 * time.Second):
	}
	close(stop)
	g := <-peak
	reached := len(e.plain.take())
	code, _ := h.goaway.Load().(http2.ErrCode)
	t.Logf("rapid reset: %d streams opened and reset on one connection; %d reached the backend; goroutines peaked at %.0f; GOAWAY %v",
		sent, reached, g, code)
	if g > 2000 {
		t.Errorf("goroutines peaked at %.0f: not bounded", g)
	}
	e.checkMemory(t, "HTTP/2 rapid reset")
	e.checkH2Served(t, roots)
}

// TestHTTP2ContinuationFloodIsBounded sends one HEADERS frame without
// END_HEADERS followed by CONTINUATION frames of header data without end
// (CVE-2023-45288): the gateway stops reading the block past its header
// limit and closes the connection; memory stays under the ceiling.
func TestHTTP2ContinuationFloodIsBounded(t *testing.T) {
	y, roots := tlsFixture(t)
	e := start(t, y)
	h := e.dialH2(t, roots)
	fragment := h.headerBlock("/v1/direct/cf")
	if err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: fragment, EndStream: true}); err != nil {
		t.Fatal(err)
	}
	var junk bytes.Buffer
	enc := hpack.NewEncoder(&junk)
	for junk.Len() < 16000 {
		_ = enc.WriteField(hpack.HeaderField{Name: "x-flood", Value: strings.Repeat("a", 100), Sensitive: true})
	}
	sent := 0
	for sent < 100<<20 {
		if err := h.fr.WriteContinuation(1, false, junk.Bytes()); err != nil {
			break
		}
		sent += junk.Len()
	}
	var closedAfter string
	select {
	case <-h.closed:
		closedAfter = "closed"
	case <-time.After(5 * time.Second):
		t.Errorf("the connection is still open after %d MiB of CONTINUATION", sent>>20)
	}
	t.Logf("CONTINUATION flood: the gateway accepted %d KiB of one header block, then the connection was %s", sent>>10, closedAfter)
	if sent > 10<<20 {
		t.Errorf("the gateway read %d MiB of one header block", sent>>20)
	}
	if got := e.plain.take(); len(got) != 0 {
		t.Errorf("the flooded request reached the backend: %s", describe(got))
	}
	e.checkMemory(t, "HTTP/2 CONTINUATION flood")
	e.checkH2Served(t, roots)
}

// checkH2Served fails unless a well-behaved HTTP/2 client is served.
func (e *env) checkH2Served(t *testing.T, roots *x509.CertPool) {
	t.Helper()
	cl := e.h2Client(roots)
	res, err := cl.Get("https://" + tlsHost + "/v1/direct/after")
	if err != nil {
		t.Fatalf("a normal HTTP/2 request after the attack: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Fatalf("a normal HTTP/2 request after the attack: %d over %s", res.StatusCode, res.Proto)
	}
}

// h2Client is an HTTP client for tlsHost that dials the gateway's HTTPS
// listener.
func (e *env) h2Client(roots *x509.CertPool) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, e.gw.HTTPS)
		},
	}}
}
