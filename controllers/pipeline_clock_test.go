package controllers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// syncSink records published statuses; safe for the timer's goroutine.
type syncSink struct {
	mu        sync.Mutex
	published [][]translate.ObjectStatus
}

func (s *syncSink) Publish(st []translate.ObjectStatus) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.published = append(s.published, st)
}

func (s *syncSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.published)
}

// condition is the condition typ of the object kind/name in the last
// published statuses (nil when absent).
func (s *syncSink) condition(kind, name, typ string) *metav1.Condition {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.published) == 0 {
		return nil
	}
	for _, st := range s.published[len(s.published)-1] {
		if st.Kind == kind && st.Name == name {
			return meta.FindStatusCondition(st.Conditions, typ)
		}
	}
	return nil
}

// selfSigned is a kubernetes.io/tls Secret for host valid from notBefore to notAfter.
func selfSigned(t *testing.T, name, host string, notBefore, notAfter time.Time) corev1.Secret {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: notBefore, NotAfter: notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Type:       corev1.SecretTypeTLS,
		Data: map[string][]byte{
			corev1.TLSCertKey:       pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
			corev1.TLSPrivateKeyKey: pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
		},
	}
}

func newClockPipeline(t *testing.T, clk *clocktesting.FakeClock) (*Pipeline, *syncSink) {
	t.Helper()
	sink := &syncSink{}
	p, err := NewPipeline(translate.Options{DefaultDomain: "example.test"}, &fakeDataplane{}, sink, logr.Discard(), prometheus.NewRegistry(), WithClock(clk))
	require.NoError(t, err)
	t.Cleanup(p.Stop)
	return p, sink
}

func domainSnapshot(secret corev1.Secret) *translate.Snapshot {
	return &translate.Snapshot{
		Apis: []v1alpha1.Api{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "pets", Generation: 1}}},
		Stages: []v1alpha1.Stage{{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "prod", Generation: 1},
			Spec: v1alpha1.StageSpec{ApiName: "pets", Domains: []v1alpha1.Domain{{
				Hostname: "api.example.com", TLS: &v1alpha1.DomainTLS{SecretName: secret.Name},
			}}},
		}},
		Secrets: []corev1.Secret{secret},
	}
}

func TestACertificateExpiringWithoutOtherChangesTurnsItsStageNotReadyAtExpiry(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t0)
	p, sink := newClockPipeline(t, clk)
	p.Apply(domainSnapshot(selfSigned(t, "api-tls", "api.example.com", t0.Add(-time.Hour), t0.Add(time.Hour))))
	require.Equal(t, metav1.ConditionTrue, sink.condition("Stage", "prod", v1alpha1.ConditionReady).Status)
	require.Equal(t, int64(1), p.Translations())

	clk.Step(59 * time.Minute) // still valid: nothing runs
	require.Never(t, func() bool { return p.Translations() != 1 }, 200*time.Millisecond, 10*time.Millisecond,
		"nothing changed before the certificate's expiry")

	clk.Step(time.Minute + time.Second)
	require.Eventually(t, func() bool { return sink.count() == 2 }, 5*time.Second, 10*time.Millisecond,
		"the expiry is translated without any other change")
	ready := sink.condition("Stage", "prod", v1alpha1.ConditionReady)
	require.Equal(t, metav1.ConditionFalse, ready.Status)
	require.Equal(t, v1alpha1.ReasonInvalidCertificate, ready.Reason)
	require.Contains(t, ready.Message, "expired at 2026-03-01T13:00:00Z")
	require.InDelta(t, 1, testutil.ToFloat64(p.metrics.timed), 0)
	require.False(t, clk.HasWaiters(), "an expired certificate changes nothing later: no timer is left")
}

func TestACertificateNotValidYetIsServedOnceItsNotBeforeComes(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t0)
	p, sink := newClockPipeline(t, clk)
	p.Apply(domainSnapshot(selfSigned(t, "api-tls", "api.example.com", t0.Add(10*time.Minute), t0.Add(24*time.Hour))))
	require.Equal(t, v1alpha1.ReasonInvalidCertificate, sink.condition("Stage", "prod", v1alpha1.ConditionReady).Reason)

	clk.Step(10 * time.Minute)
	require.Eventually(t, func() bool {
		c := sink.condition("Stage", "prod", v1alpha1.ConditionReady)
		return c != nil && c.Status == metav1.ConditionTrue
	}, 5*time.Second, 10*time.Millisecond, "the certificate is served from its notBefore on")
	require.Equal(t, 2, sink.count())
}

func TestTheTimerTranslatesTheLatestSnapshotAndAWaitTurnsStalledAfterTheGracePeriod(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clk := clocktesting.NewFakeClock(t0)
	p, sink := newClockPipeline(t, clk)
	snap := func(stored []metav1.Condition) *translate.Snapshot {
		return &translate.Snapshot{
			Apis:   []v1alpha1.Api{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "pets", Generation: 1}}},
			Stages: []v1alpha1.Stage{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "prod", Generation: 1}, Spec: v1alpha1.StageSpec{ApiName: "pets"}}},
			Routes: []v1alpha1.Route{{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "typo", Generation: 1},
				Spec: v1alpha1.RouteSpec{ApiName: "pets", RouteKey: "GET /a", Integration: v1alpha1.Integration{
					Type: v1alpha1.IntegrationTypeService, Service: &v1alpha1.IntegrationService{Name: "petz", Port: 80}}},
				Status: v1alpha1.RouteStatus{CommonStatus: v1alpha1.CommonStatus{Conditions: stored}},
			}},
		}
	}
	p.Apply(snap(nil))
	require.Equal(t, metav1.ConditionTrue, sink.condition("Route", "typo", v1alpha1.ConditionReconciling).Status)

	// The status writer records the wait 2 s later; that snapshot differs
	// only in status, so it is not translated, but it is the one the timer
	// translates.
	clk.Step(2 * time.Second)
	p.Apply(snap([]metav1.Condition{{Type: v1alpha1.ConditionReconciling, Status: metav1.ConditionTrue,
		Reason: v1alpha1.ReasonWaiting, ObservedGeneration: 1, LastTransitionTime: metav1.NewTime(clk.Now())}}))
	require.Equal(t, int64(1), p.Translations())

	clk.Step(5*time.Minute - 2*time.Second) // the provisional deadline: the stored wait is 2 s younger
	require.Eventually(t, func() bool { return p.Translations() == 2 }, 5*time.Second, 10*time.Millisecond)
	require.Equal(t, metav1.ConditionFalse, sink.condition("Route", "typo", v1alpha1.ConditionStalled).Status)

	clk.Step(2 * time.Second)
	require.Eventually(t, func() bool {
		c := sink.condition("Route", "typo", v1alpha1.ConditionStalled)
		return c != nil && c.Status == metav1.ConditionTrue
	}, 5*time.Second, 10*time.Millisecond, "Stalled once the route has waited for the grace period")
	stalled := sink.condition("Route", "typo", v1alpha1.ConditionStalled)
	require.Equal(t, v1alpha1.ReasonServiceNotFound, stalled.Reason)
	require.Contains(t, stalled.Message, `Service "petz" not found`)
	require.Equal(t, metav1.ConditionFalse, sink.condition("Route", "typo", v1alpha1.ConditionReconciling).Status)
}

func TestASnapshotWithNothingTimeDependentArmsNoTimer(t *testing.T) {
	clk := clocktesting.NewFakeClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	p, _ := newClockPipeline(t, clk)
	p.Apply(snapshot(1, true))
	require.False(t, clk.HasWaiters())
	require.InDelta(t, 0, testutil.ToFloat64(p.metrics.nextChange), 0)
}
