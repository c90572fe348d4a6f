package admin

import "net/http"

// CacheFlush is the answer of POST /cache/{namespace}/{api}/{stage}/flush.
type CacheFlush struct {
	Namespace string `json:"namespace"`
	Api       string `json:"api"`
	Stage     string `json:"stage"`
	// Flushed is how many entries the cache held (approximate while
	// evictions are pending).
	Flushed int `json:"flushed"`
}

// cacheFlushHandler serves POST /cache/{namespace}/{api}/{stage}/flush: it
// empties the stage's response cache in this replica (AWS
// FlushStageCache); 404 when the stage has no cache here.
func cacheFlushHandler(flush func(namespace, api, stage string) (int, bool)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ns, api, stage := r.PathValue("namespace"), r.PathValue("api"), r.PathValue("stage")
		if flush == nil {
			http.Error(w, "this gateway has no response cache", http.StatusNotFound)
			return
		}
		n, ok := flush(ns, api, stage)
		if !ok {
			http.Error(w, "stage "+stage+" of Api "+ns+"/"+api+" has no response cache in this replica", http.StatusNotFound)
			return
		}
		writeJSON(w, CacheFlush{Namespace: ns, Api: api, Stage: stage, Flushed: n})
	})
}
