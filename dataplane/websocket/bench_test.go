package websocket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// BenchmarkVerifySignature is the cost of checking one @connections call's
// signature (a re-signature by the SDK's signer and a comparison).
func BenchmarkVerifySignature(b *testing.B) {
	body := []byte(`{"message":"hello"}`)
	req, _ := http.NewRequest(http.MethodPost, "http://chat.shop.execute-api.localhost/prod/@connections/AAAAAAAAAAAAAAAAAAAA", strings.NewReader(string(body)))
	sum := sha256.Sum256(body)
	now := time.Now()
	creds := aws.Credentials{AccessKeyID: "AKIDEXAMPLE000000000", SecretAccessKey: "secret"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), Service, "us-east-1", now); err != nil {
		b.Fatal(err)
	}
	secretOf := func(string) (string, bool) { return "secret", true }
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify(req, body, now, secretOf); err != nil {
			b.Fatal(err)
		}
	}
}
