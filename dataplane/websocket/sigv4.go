package websocket

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// AWS Signature Version 4 verification of @connections calls. Nothing here
// computes a signature: the request is signed again by the AWS SDK for Go's
// own signer, with the caller's date, region and signed headers, and the two
// signatures are compared in constant time. The body's SHA-256 is part of
// what is signed, so a signature replayed with another body fails.

// Service is the SigV4 service name of @connections calls.
const Service = "execute-api"

// MaxSkew is how far a request's X-Amz-Date may be from the gateway's clock.
const MaxSkew = 5 * time.Minute

// amzDateLayout is the X-Amz-Date format.
const amzDateLayout = "20060102T150405Z"

// authError is a refused signature, rendered as AWS renders it: status,
// error type (x-amzn-ErrorType) and message.
type authError struct {
	status  int
	errType string
	message string
	// hint says more for the access log (never a key).
	hint string
}

func (e *authError) Error() string { return e.errType + ": " + e.message }

// AWS's messages for refused signatures. Clients and SDKs match on them:
// never reword.
const (
	msgMissingToken = "Missing Authentication Token"
	msgBadSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgUnknownKey   = "The security token included in the request is invalid."
)

func forbidden(errType, message, hint string) *authError {
	return &authError{status: http.StatusForbidden, errType: errType, message: message, hint: hint}
}

// authorization is a parsed SigV4 Authorization header.
type authorization struct {
	accessKeyID, date, region, service string
	signedHeaders                      []string
	signature                          string
}

// parseAuthorization reads "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/
// SERVICE/aws4_request, SignedHeaders=a;b, Signature=HEX".
func parseAuthorization(v string) (authorization, *authError) {
	var a authorization
	rest, ok := strings.CutPrefix(v, "AWS4-HMAC-SHA256 ")
	if !ok {
		return a, forbidden("IncompleteSignatureException", "Authorization header requires the AWS4-HMAC-SHA256 algorithm.", "the Authorization header is not a SigV4 header")
	}
	params := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		params[k] = val
	}
	var missing []string
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if params[k] == "" {
			missing = append(missing, fmt.Sprintf("Authorization header requires '%s' parameter.", k))
		}
	}
	if len(missing) > 0 {
		return a, forbidden("IncompleteSignatureException", strings.Join(missing, " "), "incomplete Authorization header")
	}
	scope := strings.Split(params["Credential"], "/")
	if len(scope) != 5 || scope[4] != "aws4_request" || scope[0] == "" {
		return a, forbidden("IncompleteSignatureException",
			"Credential should be scoped to a valid region, not ''. Credential should be scoped with a valid terminator: 'aws4_request'.",
			"malformed Credential scope")
	}
	a.accessKeyID, a.date, a.region, a.service = scope[0], scope[1], scope[2], scope[3]
	a.signedHeaders = strings.Split(strings.ToLower(params["SignedHeaders"]), ";")
	a.signature = strings.ToLower(params["Signature"])
	return a, nil
}

// verify checks r's signature against the secret of its access key
// (secretOf) at time now. body is the request body, read whole.
func verify(r *http.Request, body []byte, now time.Time, secretOf func(id string) (string, bool)) (accessKeyID string, _ *authError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", forbidden("MissingAuthenticationTokenException", msgMissingToken, "the request is not signed (no Authorization header)")
	}
	a, err := parseAuthorization(h)
	if err != nil {
		return "", err
	}
	if a.service != Service {
		return "", forbidden("InvalidSignatureException", "Credential should be scoped to correct service: '"+Service+"'. ", "signed for service "+a.service)
	}
	at, err := signingTime(r, a.date, now)
	if err != nil {
		return "", err
	}
	secret, ok := secretOf(a.accessKeyID)
	if !ok || r.Header.Get("X-Amz-Security-Token") != "" {
		return "", forbidden("UnrecognizedClientException", msgUnknownKey,
			"access key "+a.accessKeyID+" is not in a credential Secret of this Api (temporary credentials are not accepted)")
	}
	want, perr := resign(r, body, a, at, secret)
	if perr != nil || subtle.ConstantTimeCompare([]byte(want), []byte(a.signature)) != 1 {
		return "", forbidden("InvalidSignatureException", msgBadSignature, "signature mismatch for access key "+a.accessKeyID)
	}
	return a.accessKeyID, nil
}

// signingTime reads X-Amz-Date and refuses a date outside MaxSkew of now or
// one that is not the credential scope's day.
func signingTime(r *http.Request, scopeDate string, now time.Time) (time.Time, *authError) {
	v := r.Header.Get("X-Amz-Date")
	at, err := time.Parse(amzDateLayout, v)
	if err != nil {
		return at, forbidden("IncompleteSignatureException",
			"Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.", "no valid X-Amz-Date")
	}
	if at.Format("20060102") != scopeDate {
		return at, forbidden("InvalidSignatureException",
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '"+scopeDate+"' != '"+at.Format("20060102")+"', from '"+v+"'.",
			"credential scope date differs from X-Amz-Date")
	}
	now = now.UTC()
	switch {
	case at.Before(now.Add(-MaxSkew)):
		return at, forbidden("InvalidSignatureException",
			fmt.Sprintf("Signature expired: %s is now earlier than %s (%s - 5 min.)", v, now.Add(-MaxSkew).Format(amzDateLayout), now.Format(amzDateLayout)),
			"the signature is more than 5 minutes old")
	case at.After(now.Add(MaxSkew)):
		return at, forbidden("InvalidSignatureException",
			fmt.Sprintf("Signature not yet current: %s is still later than %s (%s + 5 min.)", v, now.Add(MaxSkew).Format(amzDateLayout), now.Format(amzDateLayout)),
			"the signature is dated more than 5 minutes ahead")
	}
	return at, nil
}

// resign signs a copy of r that has exactly the headers the caller signed
// with the SDK's signer and returns the signature it computed.
func resign(r *http.Request, body []byte, a authorization, at time.Time, secret string) (string, error) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := &url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath, RawQuery: r.URL.RawQuery}
	req := &http.Request{Method: r.Method, URL: u, Host: r.Host, Header: http.Header{}}
	for _, name := range a.signedHeaders {
		switch name {
		case "host":
		case "content-length":
			req.ContentLength = int64(len(body))
		default:
			key := http.CanonicalHeaderKey(name)
			if v, ok := r.Header[key]; ok {
				req.Header[key] = v
			}
		}
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: a.accessKeyID, SecretAccessKey: secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), Service, a.region, at); err != nil {
		return "", err
	}
	got, err := parseAuthorization(req.Header.Get("Authorization"))
	if err != nil {
		return "", err
	}
	if strings.Join(got.signedHeaders, ";") != strings.Join(a.signedHeaders, ";") {
		return "", fmt.Errorf("signed headers differ") // a header the SDK never signs, or one missing
	}
	return got.signature, nil
}
