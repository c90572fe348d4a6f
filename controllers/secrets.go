package controllers

import (
	"crypto/sha256"
	"encoding/hex"

	corev1 "k8s.io/api/core/v1"
)

// Secret types the gateway reads.
const (
	// SecretTypeTLS holds a certificate and key for a custom domain.
	SecretTypeTLS = corev1.SecretTypeTLS
	// SecretTypeAPIKey holds an API key in data.key, selected by UsagePlans.
	SecretTypeAPIKey corev1.SecretType = "turnpike.io/api-key"
)

// APIKeyDataKey is the data field of an API-key Secret that holds the key.
const APIKeyDataKey = "key"

// APIKeyHashedAnnotation marks a Secret whose data.key was replaced by its
// SHA-256 hex digest by HashAPIKey. It is set in memory only (never written
// back), and makes HashAPIKey idempotent.
const APIKeyHashedAnnotation = "turnpike.io/key-hashed"

// HashAPIKey replaces data.key of an API-key Secret by the lower-case hex
// SHA-256 of the key, so no key value stays in memory, and marks the Secret with
// APIKeyHashedAnnotation. The dataplane compares hashes of presented keys.
// Calling it twice, or on another Secret type, changes nothing. It mutates s:
// call it only on a Secret the caller owns (an informer transform's input, a
// freshly decoded file).
func HashAPIKey(s *corev1.Secret) {
	if s.Type != SecretTypeAPIKey || s.Annotations[APIKeyHashedAnnotation] != "" {
		return
	}
	if key, ok := s.Data[APIKeyDataKey]; ok {
		sum := sha256.Sum256(key)
		data := make(map[string][]byte, len(s.Data))
		for k, v := range s.Data {
			data[k] = v
		}
		data[APIKeyDataKey] = []byte(hex.EncodeToString(sum[:]))
		s.Data = data
	}
	ann := make(map[string]string, len(s.Annotations)+1)
	for k, v := range s.Annotations {
		ann[k] = v
	}
	ann[APIKeyHashedAnnotation] = "sha256"
	s.Annotations = ann
}

// TransformSecret is the informer transform of the Secret caches: it hashes
// API keys (HashAPIKey) and drops managedFields, which the gateway never reads.
// Objects that are not Secrets (tombstones) pass unchanged.
func TransformSecret(obj any) (any, error) {
	s, ok := obj.(*corev1.Secret)
	if !ok {
		return obj, nil
	}
	s.ManagedFields = nil
	HashAPIKey(s)
	return s, nil
}
