package controllers

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	corev1 "k8s.io/api/core/v1"
)

// Secret types the gateway reads.
const (
	// SecretTypeTLS holds a certificate and key for a custom domain.
	SecretTypeTLS = corev1.SecretTypeTLS
	// SecretTypeAPIKey holds an API key in data.key, selected by UsagePlans.
	SecretTypeAPIKey corev1.SecretType = "turnpike.io/api-key"
	// SecretTypeAWSCredentials holds an access key (data.accessKeyId,
	// data.secretAccessKey) that may sign a WEBSOCKET Api's @connections
	// calls. The secret key stays as it is: verifying a signature needs it.
	SecretTypeAWSCredentials corev1.SecretType = "turnpike.io/aws-credentials" //nolint:gosec // G101: a Secret type, not a credential
)

// APIKeyDataKey is the data field of an API-key Secret that holds the key.
const APIKeyDataKey = "key"

// APIKeyHashedAnnotation marks a Secret whose data.key was replaced by its
// SHA-256 hex digest by HashAPIKey. It is set in memory only (never written
// back), and makes HashAPIKey idempotent.
const APIKeyHashedAnnotation = "turnpike.io/key-hashed"

// APIKeyInvalidAnnotation is set (in memory only) by HashAPIKey on an API-key
// Secret whose key cannot be served, with the reason as its value. The hash
// hides the key's length, so validity is decided before hashing.
const APIKeyInvalidAnnotation = "turnpike.io/key-invalid"

// API key length bounds (api.md, as in AWS).
const (
	MinAPIKeyLength = 20
	MaxAPIKeyLength = 128
)

// apiKeyProblem says why key (ok reports presence) cannot be served, or "".
func apiKeyProblem(key []byte, ok bool) string {
	switch {
	case !ok:
		return "the Secret has no data.key"
	case len(key) < MinAPIKeyLength || len(key) > MaxAPIKeyLength:
		return fmt.Sprintf("data.key has %d characters; an API key has %d to %d", len(key), MinAPIKeyLength, MaxAPIKeyLength)
	}
	return ""
}

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
	key, ok := s.Data[APIKeyDataKey]
	problem := apiKeyProblem(key, ok)
	if ok {
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
	if problem != "" {
		ann[APIKeyInvalidAnnotation] = problem
	}
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
