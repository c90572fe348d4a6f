package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestTransformSecretReplacesTheAPIKeyByItsSHA256AndIsIdempotent(t *testing.T) {
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "k", ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}},
		Type:       SecretTypeAPIKey,
		Data:       map[string][]byte{"key": []byte("abcdefghijklmnopqrstuvwxyz"), "other": []byte("x")},
	}
	sum := sha256.Sum256([]byte("abcdefghijklmnopqrstuvwxyz"))
	want := hex.EncodeToString(sum[:])

	out, err := TransformSecret(s)
	require.NoError(t, err)
	got := out.(*corev1.Secret)
	require.Equal(t, want, string(got.Data["key"]))
	require.Equal(t, "x", string(got.Data["other"]))
	require.Nil(t, got.ManagedFields)

	out, err = TransformSecret(got)
	require.NoError(t, err)
	require.Equal(t, want, string(out.(*corev1.Secret).Data["key"]), "a second transform must not hash the hash")
}

func TestTransformSecretLeavesTLSSecretDataAlone(t *testing.T) {
	s := &corev1.Secret{Type: SecretTypeTLS, Data: map[string][]byte{"tls.crt": []byte("c"), "key": []byte("k")}}
	out, err := TransformSecret(s)
	require.NoError(t, err)
	require.Equal(t, "k", string(out.(*corev1.Secret).Data["key"]))
	require.Empty(t, out.(*corev1.Secret).Annotations)
}

func TestTransformSecretPassesTombstonesThrough(t *testing.T) {
	out, err := TransformSecret("tombstone")
	require.NoError(t, err)
	require.Equal(t, "tombstone", out)
}
