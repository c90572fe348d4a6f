package websocket

import "net/http"

// Recorder is the http.ResponseWriter an event's chain writes to: it keeps
// the status, header and body (up to a limit) of the answer, for the
// connection to send back or to decide on. It is not safe for concurrent
// use; one event writes it.
type Recorder struct {
	header http.Header
	status int
	body   []byte
	limit  int
	// Truncated is set when the body was longer than the limit.
	Truncated bool
}

// NewRecorder returns a Recorder that keeps at most limit body bytes.
func NewRecorder(limit int) *Recorder {
	return &Recorder{header: http.Header{}, limit: limit}
}

// Header is the answer's header.
func (r *Recorder) Header() http.Header { return r.header }

// WriteHeader records the first final status.
func (r *Recorder) WriteHeader(code int) {
	if r.status == 0 && code >= 200 {
		r.status = code
	}
}

// Write keeps the body up to the limit and reports every byte written, so
// a writer never fails on it.
func (r *Recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	room := r.limit - len(r.body)
	switch {
	case room >= len(p):
		r.body = append(r.body, p...)
	case room > 0:
		r.body = append(r.body, p[:room]...)
		r.Truncated = true
	default:
		r.Truncated = r.Truncated || len(p) > 0
	}
	return len(p), nil
}

// Flush does nothing: the answer is sent as a whole, if at all.
func (r *Recorder) Flush() {}

// Status is the recorded status (200 when only a body was written, 0 when
// nothing was).
func (r *Recorder) Status() int { return r.status }

// Body is the recorded body.
func (r *Recorder) Body() []byte { return r.body }

// CopyTo writes the recorded answer to w (a refused upgrade).
func (r *Recorder) CopyTo(w http.ResponseWriter) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(r.body) // the client may be gone; the status is logged anyway
}
