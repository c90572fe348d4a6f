package cors

import (
	"net/http"
	"slices"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/table"
)

// Writer puts an Api's CORS headers on a non-preflight response. It wraps
// the response writer of one request and, when the final status is written
// (by WriteHeader, the first Write or Flush), removes every CORS header
// already on the response and adds the policy's. Doing it at that moment,
// not when the request arrives, is what makes it cover every writer alike:
// the reverse proxy copying the backend's headers, a MOCK integration, and
// the gateway's own error responses.
//
// A Writer is meant to live inside a pooled per-request struct (no
// allocation per request); Reset prepares it for one request. It is not safe
// for concurrent use, like the http.ResponseWriter it wraps.
type Writer struct {
	http.ResponseWriter
	c *table.CORS
	// origin is the request's Origin when the policy allows it, else "".
	origin string
	// applied is set once the headers of the final response were fixed.
	applied bool
}

// Reset makes w wrap rw for one request whose Origin header is origin ("" when
// absent) under policy c.
func (w *Writer) Reset(rw http.ResponseWriter, c *table.CORS, origin string) {
	*w = Writer{ResponseWriter: rw, c: c}
	if c.AllowOrigin(origin) {
		w.origin = origin
	}
}

// Allowed reports whether the request's origin is allowed (for tests and logs).
func (w *Writer) Allowed() bool { return w.origin != "" }

// WriteHeader fixes the CORS headers before a final status; informational
// 1xx answers pass through untouched.
func (w *Writer) WriteHeader(code int) {
	if code >= 200 {
		w.apply()
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write fixes the CORS headers before the first body byte (an implicit 200).
func (w *Writer) Write(p []byte) (int, error) {
	w.apply()
	return w.ResponseWriter.Write(p)
}

// Flush fixes the CORS headers before an implicit 200 is flushed.
func (w *Writer) Flush() {
	w.apply()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer for http.ResponseController (deadlines,
// hijacking a protocol switch).
func (w *Writer) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// apply replaces the CORS headers on the response with the policy's, once.
func (w *Writer) apply() {
	if w.applied {
		return
	}
	w.applied = true
	h := w.Header()
	for _, k := range backendHeaders {
		delete(h, k)
	}
	c := w.c
	if w.origin == "" {
		addVaryOrigin(h)
		return
	}
	if c.LiteralStar() {
		h[hAllowOrigin] = valStar
	} else {
		h[hAllowOrigin] = []string{w.origin}
		addVaryOrigin(h)
	}
	if c.AllowCredentials {
		h[hAllowCreds] = valTrue
	}
	if c.AnyExpose() && c.AllowCredentials {
		// With credentials "*" is a header name to the browser: list the
		// names this response actually has.
		h[hExposeHeaders] = []string{exposeAll(h)}
		return
	}
	setIf(h, hExposeHeaders, c.ExposeValue())
}

// addVaryOrigin adds Origin to Vary unless the backend already listed it or "*".
func addVaryOrigin(h http.Header) {
	old := h[hVary]
	for _, v := range old {
		if hasToken(v, "origin") || hasToken(v, "*") {
			return
		}
	}
	h[hVary] = append(slices.Clip(old), "Origin")
}

// exposeAll lists the response's header names, sorted, for an exposeHeaders
// "*" with credentials.
func exposeAll(h http.Header) string {
	names := make([]string, 0, len(h))
	for k := range h {
		if k != hVary && !strings.HasPrefix(k, "Access-Control-") && k != "Set-Cookie" {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}
