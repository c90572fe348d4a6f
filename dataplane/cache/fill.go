package cache

import (
	"encoding/binary"
	"net/http"
)

// Recorder keeps a copy of a response body while it is written, up to
// MaxEntryBytes; past that it keeps nothing and the answer is not cached.
// The dataplane's response writer feeds it only on a cached route's miss.
type Recorder struct {
	buf  []byte
	over bool
}

// Write records p.
func (r *Recorder) Write(p []byte) {
	if r.over {
		return
	}
	if len(r.buf)+len(p) > MaxEntryBytes {
		r.over, r.buf = true, nil
		return
	}
	r.buf = append(r.buf, p...)
}

// Abort drops the recording: the body will not be complete.
func (r *Recorder) Abort() { r.over, r.buf = true, nil }

// Body is what was recorded; ok is false when the body was too large.
func (r *Recorder) Body() (body []byte, ok bool) { return r.buf, !r.over }

// Cacheable reports whether an integration answer with status and header
// may be stored: 2xx only, and never one that sets a cookie or announces
// trailers (a safety choice: a cookie belongs to one caller).
func Cacheable(status int, h http.Header) bool {
	if status < 200 || status > 299 {
		return false
	}
	_, cookie := h["Set-Cookie"]
	_, trailer := h["Trailer"]
	return !cookie && !trailer
}

// unstored are headers an entry never keeps: framing (the hit sets its
// own Content-Length), the date (the server sends the current one), and
// the gateway's own per-request headers, which a MOCK answer's header map
// may hold besides the integration's. CORS headers are kept as the
// integration sent them: with an Api CORS policy the chain replaces them
// per request anyway.
var unstored = []string{
	"Content-Length", "Transfer-Encoding", "Date", "Connection",
	"X-Request-Id", "X-Amzn-Requestid", "Apigw-Requestid", "X-Turnpike-Canary",
	"Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset", "Retry-After", "Warning", "X-Cache",
}

// StoredHeader is the copy of an answer's header an entry keeps.
func StoredHeader(h http.Header) http.Header {
	c := h.Clone()
	for _, k := range unstored {
		delete(c, k)
	}
	return c
}

// Key builds an entry key: the route's cache key, the method, whether the
// request is the canary's (another integration), then each key parameter's
// values, every piece length-prefixed so that no two different requests
// share a key.
type Key struct{ b []byte }

// Reset starts a key in buf's storage.
func (k *Key) Reset(buf []byte, routeKey, method string, canary bool) {
	k.b = buf[:0]
	k.add(routeKey)
	k.add(method)
	if canary {
		k.b = append(k.b, 'c')
	} else {
		k.b = append(k.b, 's')
	}
}

// Add appends one key parameter's values (none: the parameter is absent).
func (k *Key) Add(values []string) {
	k.b = binary.AppendUvarint(k.b, uint64(len(values)))
	for _, v := range values {
		k.add(v)
	}
}

func (k *Key) add(s string) {
	k.b = binary.AppendUvarint(k.b, uint64(len(s)))
	k.b = append(k.b, s...)
}

// String is the finished key.
func (k *Key) String() string { return string(k.b) }
