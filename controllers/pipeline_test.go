package controllers

import (
	"errors"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

// fakeDataplane records what the pipeline pushes.
type fakeDataplane struct {
	mu        sync.Mutex
	tables    []*table.Table
	endpoints []table.EndpointSets
}

func (f *fakeDataplane) Swap(t *table.Table) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tables = append(f.tables, t)
}

func (f *fakeDataplane) UpdateEndpoints(e table.EndpointSets) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.endpoints = append(f.endpoints, e)
}

type fakeSink struct{ published [][]translate.ObjectStatus }

func (f *fakeSink) Publish(s []translate.ObjectStatus) { f.published = append(f.published, s) }

// stubTranslate returns an empty table, one status per Route, and the error
// in *fail.
func stubTranslate(fail *error) TranslateFunc {
	return func(s *translate.Snapshot, _ translate.Options) translate.Result {
		t, err := table.New(nil)
		if err != nil {
			panic(err)
		}
		var st []translate.ObjectStatus
		for _, r := range s.Routes {
			st = append(st, translate.ObjectStatus{ObjectRef: translate.ObjectRef{Kind: "Route", Namespace: r.Namespace, Name: r.Name}, Generation: r.Generation})
		}
		return translate.Result{Table: t, Statuses: st, Err: *fail}
	}
}

func newTestPipeline(t *testing.T, fail *error) (*Pipeline, *fakeDataplane, *fakeSink, *prometheus.Registry) {
	t.Helper()
	dp, sink, reg := &fakeDataplane{}, &fakeSink{}, prometheus.NewRegistry()
	p, err := NewPipelineWith(stubTranslate(fail), translate.Options{}, dp, sink, logr.Discard(), reg)
	require.NoError(t, err)
	return p, dp, sink, reg
}

func snapshot(routeGen int64, ready bool) *translate.Snapshot {
	return &translate.Snapshot{
		Routes: []v1alpha1.Route{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "r", Generation: routeGen, UID: "u1"}}},
		EndpointSlices: []discoveryv1.EndpointSlice{{
			ObjectMeta:  metav1.ObjectMeta{Namespace: "shop", Name: "pets-1", Labels: map[string]string{discoveryv1.LabelServiceName: "pets"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.0.0.1"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(ready)}}},
		}},
	}
}

func TestPipelineSwapsTheFirstTableAndPublishesStatuses(t *testing.T) {
	var fail error
	p, dp, sink, reg := newTestPipeline(t, &fail)
	p.Apply(snapshot(1, true))
	require.Len(t, dp.tables, 1)
	require.Len(t, dp.endpoints, 1)
	require.Equal(t, []table.Endpoint{{Address: "10.0.0.1", Port: 8080}}, dp.endpoints[0]["shop/pets:http"])
	require.Len(t, sink.published, 1)
	require.Equal(t, "r", sink.published[0][0].Name)
	require.Equal(t, int64(1), p.Generation())
	require.InDelta(t, 1, testutil.ToFloat64(p.metrics.generation), 0)
	select {
	case <-p.Ready():
	default:
		t.Fatal("Ready must be closed after the first swap")
	}
	n, err := testutil.GatherAndCount(reg, "turnpike_translation_duration_seconds", "turnpike_table_routes",
		"turnpike_table_generation", "turnpike_table_apply_timestamp_seconds")
	require.NoError(t, err)
	require.Equal(t, 4, n)
}

func TestPipelineTakesTheEndpointFastPathWhenOnlyEndpointSlicesChange(t *testing.T) {
	var fail error
	p, dp, _, _ := newTestPipeline(t, &fail)
	p.Apply(snapshot(1, true))
	p.Apply(snapshot(1, false))
	require.Equal(t, int64(1), p.Translations(), "an EndpointSlice change must not re-translate")
	require.Len(t, dp.tables, 1)
	require.Len(t, dp.endpoints, 2)
	require.Empty(t, dp.endpoints[1]["shop/pets:http"])
}

func TestPipelineSkipsAnUnchangedSnapshotEvenWhenStatusAndResourceVersionChanged(t *testing.T) {
	var fail error
	p, dp, sink, _ := newTestPipeline(t, &fail)
	p.Apply(snapshot(1, true))
	s := snapshot(1, true)
	s.Routes[0].ResourceVersion = "99"
	s.Routes[0].Status.ObservedGeneration = 1
	s.Routes[0].ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "turnpike"}}
	p.Apply(s)
	require.Equal(t, int64(1), p.Translations())
	require.Len(t, dp.tables, 1)
	require.Len(t, dp.endpoints, 1, "unchanged endpoints are not pushed again")
	require.Len(t, sink.published, 1)
}

func TestPipelineTranslatesAgainWhenASpecOrSecretChanges(t *testing.T) {
	var fail error
	p, dp, _, _ := newTestPipeline(t, &fail)
	p.Apply(snapshot(1, true))
	p.Apply(snapshot(2, true))
	s := snapshot(2, true)
	s.Secrets = []corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "tls"}, Data: map[string][]byte{"tls.crt": []byte("a")}}}
	p.Apply(s)
	s = snapshot(2, true)
	s.Secrets = []corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "tls"}, Data: map[string][]byte{"tls.crt": []byte("b")}}}
	p.Apply(s)
	require.Equal(t, int64(4), p.Translations())
	require.Len(t, dp.tables, 4)
}

func TestPipelineKeepsTheLastGoodTableWhenTranslationFails(t *testing.T) {
	var fail error
	p, dp, sink, _ := newTestPipeline(t, &fail)
	p.Apply(snapshot(1, true))
	fail = errors.New("duplicate route")
	p.Apply(snapshot(2, true))
	require.Len(t, dp.tables, 1, "a failed translation must not be swapped in")
	require.Len(t, sink.published, 1)
	require.InDelta(t, 1, testutil.ToFloat64(p.metrics.translations.WithLabelValues("error")), 0)

	fail = nil
	p.Apply(snapshot(2, true))
	require.Len(t, dp.tables, 2, "the same snapshot is translated again once the translator succeeds")
}

func TestNewPipelineFailsWhenItsMetricsAreAlreadyRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	_, err := NewPipeline(translate.Options{}, &fakeDataplane{}, nil, logr.Discard(), reg)
	require.NoError(t, err)
	_, err = NewPipeline(translate.Options{}, &fakeDataplane{}, nil, logr.Discard(), reg)
	require.Error(t, err)
}
