package dataplane

import (
	"net/http"

	"github.com/turnpike-io/turnpike/dataplane/cache"
)

// responseWriter records the status and body size for the $context, and
// runs the chain's header side once, right before the final status of the
// response is sent: on WriteHeader of a status >= 200, or on the first Write
// or Flush (an implicit 200), whoever writes (backend, MOCK, gateway error).
// Informational 1xx answers pass through without it. It exposes Unwrap so
// http.ResponseController (used by the reverse proxy to flush streams and
// set deadlines) reaches the server's own writer.
//
// It also keeps the gateway's own response headers (request ids, the canary
// mark, RateLimit-*, "Connection: close" while draining) across a backend's
// 1xx answers: ReverseProxy forwards a 1xx with the header map and then
// clears the whole map, so keepHeaders records them before forwarding and
// the final WriteHeader puts them back, once, only if a 1xx cleared them.
type responseWriter struct {
	http.ResponseWriter
	// x is the exchange this writer belongs to (the header side's argument).
	x      *exchange
	status int
	bytes  int64

	// own are the headers keepHeaders saw (ownBuf avoids an allocation);
	// informed is set when a 1xx other than 101 was written since.
	own      []ownHeader
	ownBuf   [8]ownHeader
	informed bool
	// final is set once the header side ran for the final status.
	final bool
	// tee, when set, gets a copy of the body as it is written: the
	// response cache arms it on a cached route's miss (step_cache.go).
	tee *cache.Recorder
}

// ownHeader is one gateway response header: its canonical key and values.
type ownHeader struct {
	key  string
	vals []string
}

// keepHeaders records the headers set so far as the gateway's own. The
// integration step calls it right before forwarding, when every header the
// gateway sets on a proxied response is in place.
func (w *responseWriter) keepHeaders() {
	w.own = w.ownBuf[:0]
	for k, v := range w.Header() {
		w.own = append(w.own, ownHeader{key: k, vals: v})
	}
}

// WriteHeader records the first final status; 1xx informational answers pass
// through without counting as the response's status. A final status after a
// 1xx gets the gateway's own headers back, first, before the backend's (as
// they would be without the 1xx); then the chain's header side runs.
func (w *responseWriter) WriteHeader(code int) {
	switch {
	case code < 200 && code != http.StatusSwitchingProtocols:
		w.informed = true
	case w.informed:
		w.informed = false
		h := w.Header()
		for _, o := range w.own {
			n := len(o.vals)
			h[o.key] = append(o.vals[:n:n], h[o.key]...) // copies when the backend has the key too
		}
	}
	if code >= 200 {
		w.finalHeaders()
	}
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// finalHeaders runs the chain's header side once per response.
func (w *responseWriter) finalHeaders() {
	if !w.final {
		w.final = true
		w.x.headers()
	}
}

// Write counts body bytes; a Write before WriteHeader means 200, as in net/http.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.finalHeaders()
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	if w.tee != nil {
		if err != nil {
			w.tee.Abort() // an incomplete body is never stored
		} else {
			w.tee.Write(p)
		}
	}
	return n, err
}

// Flush sends buffered data to the client (streaming responses).
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.finalHeaders()
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
