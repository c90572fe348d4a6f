package controllers

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

func TestHashAPIKeyRecordsWhyAKeyCannotBeServedBeforeTheHashHidesItsLength(t *testing.T) {
	tests := []struct {
		name    string
		data    map[string][]byte
		problem string
	}{
		{"a key of 20 characters is valid", map[string][]byte{"key": []byte(strings.Repeat("a", 20))}, ""},
		{"a key of 128 characters is valid", map[string][]byte{"key": []byte(strings.Repeat("a", 128))}, ""},
		{"a key of 19 characters is too short", map[string][]byte{"key": []byte(strings.Repeat("a", 19))},
			"data.key has 19 characters; an API key has 20 to 128"},
		{"a key of 129 characters is too long", map[string][]byte{"key": []byte(strings.Repeat("a", 129))},
			"data.key has 129 characters; an API key has 20 to 128"},
		{"a Secret without data.key has no key", map[string][]byte{"other": []byte("x")}, "the Secret has no data.key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &corev1.Secret{Type: SecretTypeAPIKey, Data: tc.data}
			HashAPIKey(s)
			require.Equal(t, tc.problem, s.Annotations[APIKeyInvalidAnnotation])
			HashAPIKey(s) // idempotent: the hash of a short key must not become valid
			require.Equal(t, tc.problem, s.Annotations[APIKeyInvalidAnnotation])
		})
	}
}
