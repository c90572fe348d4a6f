package admin

import "net/http"

// Readiness reports whether the gateway is ready and, when it is not, why
// in a few words ("shutting down", "no routing table yet").
type Readiness func() (ready bool, why string)

// HealthHandler serves /healthz (200 while the process runs: liveness must
// not fail for reasons a restart cannot fix) and /readyz (200 when ready,
// else 503 with the reason; a 200 lists the warnings, when warnings is set,
// after "ok": things that do not stop traffic but need an operator, such as
// status writes blocked by a missing Lease namespace).
func HealthHandler(ready Readiness, warnings func() []string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writePlain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if ok, why := ready(); !ok {
			writePlain(w, http.StatusServiceUnavailable, why+"\n")
			return
		}
		body := "ok\n"
		if warnings != nil {
			for _, warning := range warnings() {
				body += "warning: " + warning + "\n"
			}
		}
		writePlain(w, http.StatusOK, body)
	})
	return mux
}

func writePlain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body)) // probes that hang up early need no answer
}
