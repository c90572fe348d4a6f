package dataplane

import "net/http"

// HealthHandler serves /healthz (200 while the process runs: liveness must
// not fail for reasons a restart cannot fix) and /readyz (200 once the first
// table is in place and until shutdown begins, 503 otherwise; a 200 lists
// Options.Warnings after "ok").
func (s *Server) HealthHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writePlain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		switch {
		case s.stopping.Load():
			writePlain(w, http.StatusServiceUnavailable, "shutting down\n")
		case !s.swapped.Load():
			writePlain(w, http.StatusServiceUnavailable, "no routing table yet\n")
		default:
			body := "ok\n"
			if s.opts.Warnings != nil {
				for _, warning := range s.opts.Warnings() {
					body += "warning: " + warning + "\n"
				}
			}
			writePlain(w, http.StatusOK, body)
		}
	})
	return mux
}

func writePlain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // probes that hang up early need no answer
}
