// Command demo-backend is the stand-in backend of `make run`: it answers every
// request with a JSON echo of what reached it (method, path as received, query,
// forwarded headers), so a user can see what the gateway sent.
package main

import (
	"encoding/json"
	"flag"
	"log"
	"net/http"
	"strings"
	"time"
)

func main() {
	addrs := flag.String("listen", "127.0.0.1:9001=pets,127.0.0.1:9002=legacy", "comma-separated addr=name pairs")
	flag.Parse()
	errs := make(chan error)
	for _, pair := range strings.Split(*addrs, ",") {
		addr, name, _ := strings.Cut(pair, "=")
		srv := &http.Server{Addr: addr, Handler: echo(name), ReadHeaderTimeout: 5 * time.Second}
		go func() { errs <- srv.ListenAndServe() }()
	}
	log.Fatal(<-errs)
}

func echo(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"backend":         name,
			"method":          r.Method,
			"path":            r.URL.EscapedPath(),
			"query":           r.URL.RawQuery,
			"host":            r.Host,
			"xForwardedFor":   r.Header.Get("X-Forwarded-For"),
			"xForwardedHost":  r.Header.Get("X-Forwarded-Host"),
			"xForwardedProto": r.Header.Get("X-Forwarded-Proto"),
			"requestId":       r.Header.Get("X-Request-Id"),
		})
	})
}
