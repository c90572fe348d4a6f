package cluster

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/turnpike-io/turnpike/controllers"
	"github.com/turnpike-io/turnpike/dataplane/table"
)

func TestOnlyTLSAndAPIKeySecretsReachTheSnapshotWithKeysHashed(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	secret := func(name string, typ corev1.SecretType, data map[string]string) client.Object {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Type: typ, Data: map[string][]byte{}}
		for k, v := range data {
			s.Data[k] = []byte(v)
		}
		return s
	}
	const key = "0123456789abcdefghijKLMN"
	createAll(t,
		secret("tls", corev1.SecretTypeTLS, map[string]string{"tls.crt": "crt", "tls.key": "key"}),
		secret("gold-key", controllers.SecretTypeAPIKey, map[string]string{"key": key}),
		secret("opaque", corev1.SecretTypeOpaque, map[string]string{"password": "hunter2"}),
	)
	h := startReplica(t, ns, Options{})

	require.Eventually(t, func() bool {
		snap := h.snaps.last.Load()
		return snap != nil && len(snap.Secrets) == 2
	}, 20*time.Second, 50*time.Millisecond, "the tls and api-key Secrets are in the snapshot")
	snap := h.snaps.last.Load()
	require.Equal(t, "gold-key", snap.Secrets[0].Name)
	require.Equal(t, "tls", snap.Secrets[1].Name, "secrets are sorted and the Opaque one is not cached")
	sum := sha256.Sum256([]byte(key))
	require.Equal(t, hex.EncodeToString(sum[:]), string(snap.Secrets[0].Data["key"]), "the key value never reaches the cache")
	require.Empty(t, snap.Secrets[0].ManagedFields)
	require.Equal(t, "crt", string(snap.Secrets[1].Data["tls.crt"]))
}

func TestAReplicaStartedOnExistingObjectsSwapsInACompleteFirstTable(t *testing.T) {
	requireEnv(t)
	ns := newNamespace(t)
	objs := petsObjects(ns)
	createAll(t, objs...)
	h := startReplica(t, ns, Options{})
	h.waitForTable(t, "a first table", func(*table.Table) bool { return true })

	h.dp.mu.Lock()
	first := h.dp.tables[0]
	h.dp.mu.Unlock()
	require.True(t, hasKeys(ns, petsKeys...)(first), "the first table must hold every route (no swap before sync); got %v",
		routeKeys(first, ns, "pets"))
	require.True(t, h.source.HasSynced())
	select {
	case <-h.pipeline.Ready():
	default:
		t.Fatal("the pipeline must be ready after its first swap")
	}
}
