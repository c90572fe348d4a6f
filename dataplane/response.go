package dataplane

import "net/http"

// responseWriter records the status and body size for the access log. It
// exposes Unwrap so http.ResponseController (used by the reverse proxy to
// flush streams and set deadlines) reaches the server's own writer.
type responseWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

// WriteHeader records the first final status; 1xx informational answers pass
// through without counting as the response's status.
func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write counts body bytes; a Write before WriteHeader means 200, as in net/http.
func (w *responseWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// Flush sends buffered data to the client (streaming responses).
func (w *responseWriter) Flush() {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap returns the wrapped writer for http.ResponseController.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
