package cluster

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/dataplane"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// stageCacheOf finds the cache settings of stage prod of Api ns/pets.
func stageCacheOf(tbl *table.Table, ns string) (*table.Stage, bool) {
	for _, a := range tbl.Apis {
		if a.Namespace != ns || a.Name != "pets" {
			continue
		}
		for _, s := range a.Stages {
			if s.Name == "prod" && s.Cache != nil && len(s.Routes) == 1 && s.Routes[0].Cache != nil {
				return s, true
			}
		}
	}
	return nil, false
}

// A new value of the Stage's turnpike.io/flush-cache annotation, applied
// through a real API server, flushes the stage's response cache in the
// dataplane; an unrelated edit re-translates and keeps the entries.
func TestTheFlushCacheAnnotationFlushesTheStageCache(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	var backendCalls atomic.Int32
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		backendCalls.Add(1)
		_, _ = io.WriteString(w, "pets")
	}))
	defer backend.Close()

	srv := dataplane.NewServer(dataplane.Options{})
	defer srv.Close()
	h := startReplica(t, ns, Options{})
	h.dp.serveWith(srv)

	meta := func(name string) metav1.ObjectMeta { return metav1.ObjectMeta{Namespace: ns, Name: name} }
	stage := &v1alpha1.Stage{ObjectMeta: meta("prod"), Spec: v1alpha1.StageSpec{ApiName: "pets",
		Cache: &v1alpha1.StageCache{Enabled: true}}} // ttlSeconds and maxBytes: the CRD's defaults
	api := &v1alpha1.Api{ObjectMeta: meta("pets"), Spec: v1alpha1.ApiSpec{Protocol: v1alpha1.ProtocolREST}}
	createAll(t, api, stage, &v1alpha1.Route{ObjectMeta: meta("list-pets"), Spec: v1alpha1.RouteSpec{
		ApiName: "pets", RouteKey: "GET /pets",
		Integration: v1alpha1.Integration{Type: v1alpha1.IntegrationTypeHTTPProxy, URI: backend.URL},
	}})
	h.waitForTable(t, "a cached stage", func(tbl *table.Table) bool {
		s, ok := stageCacheOf(tbl, ns)
		return ok && s.Cache.TTLSeconds == 300 && s.Cache.MaxBytes == 67108864
	})

	get := func() string {
		r := httptest.NewRequest("GET", "http://pets."+ns+".example.test/prod/pets", nil)
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		require.Equal(t, 200, w.Code, w.Body.String())
		return w.Header().Get("X-Cache")
	}
	require.Equal(t, "Miss", get())
	require.Equal(t, "Hit", get())
	require.Equal(t, int32(1), backendCalls.Load())

	// An unrelated edit: a new table, the entry stays.
	patch := client.MergeFrom(api.DeepCopy())
	api.Spec.ErrorHints = true
	require.NoError(t, k8s.Patch(context.Background(), api, patch))
	h.waitForTable(t, "errorHints on", func(tbl *table.Table) bool {
		_, ok := stageCacheOf(tbl, ns)
		return ok && tbl.Apis[0].ErrorHints
	})
	require.Equal(t, "Hit", get())

	// The annotation: the next request goes to the backend.
	patch = client.MergeFrom(stage.DeepCopy())
	stage.Annotations = map[string]string{v1alpha1.FlushCacheAnnotation: "2026-01-01T12:00"}
	require.NoError(t, k8s.Patch(context.Background(), stage, patch))
	h.waitForTable(t, "the flush token", func(tbl *table.Table) bool {
		s, ok := stageCacheOf(tbl, ns)
		return ok && s.Cache.FlushToken == "2026-01-01T12:00"
	})
	require.Equal(t, "Miss", get())
	require.Equal(t, "Hit", get())
	require.Equal(t, int32(2), backendCalls.Load())

	// Turning the stage's status header off is a settings change of the
	// stage, not of its size bound: the entry stays.
	patch = client.MergeFrom(stage.DeepCopy())
	stage.Spec.Cache.StatusHeader = ptr.To(false)
	require.NoError(t, k8s.Patch(context.Background(), stage, patch))
	h.waitForTable(t, "no status header", func(tbl *table.Table) bool {
		s, ok := stageCacheOf(tbl, ns)
		return ok && !s.Cache.StatusHeader
	})
	require.Equal(t, "", get())
	require.Equal(t, int32(2), backendCalls.Load())
}
