package dataplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	ws "github.com/coder/websocket"

	"github.com/turnpike-io/turnpike/dataplane/websocket"
)

// signedCall is one @connections call signed with the AWS SDK for Go's
// SigV4 signer (an independent client, the AWS SDK for JavaScript, signs
// in test/websocket).
type signedCall struct {
	method, id, body string
	keyID, secret    string
	at               time.Time
	// sentBody replaces the body after signing (a replayed signature).
	sentBody *string
}

func (e *wsEnv) call(t *testing.T, c signedCall) (int, http.Header, string) {
	t.Helper()
	if c.keyID == "" {
		c.keyID, c.secret = testKeyID, testSecret
	}
	if c.at.IsZero() {
		c.at = time.Now()
	}
	url := e.srv.URL + "/prod/@connections/" + c.id
	req, err := http.NewRequestWithContext(t.Context(), c.method, url, strings.NewReader(c.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = wsHost
	if c.keyID != "-" {
		sum := sha256.Sum256([]byte(c.body))
		err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: c.keyID, SecretAccessKey: c.secret},
			req, hex.EncodeToString(sum[:]), "execute-api", "eu-west-3", c.at)
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.sentBody != nil {
		req.Body, req.ContentLength = io.NopCloser(strings.NewReader(*c.sentBody)), int64(len(*c.sentBody))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

func TestConnectionsAPIPostsGetsAndDeletes(t *testing.T) {
	b := newWSBackend(t)
	e := newWSEnv(t, websocket.Limits{}, chatApi(t, b.route("$connect", "/connect"), b.route("$disconnect", "/disconnect")))
	c := e.mustDial(t, "/prod")
	id := b.next(t).Header.Get("X-Turnpike-Connection-Id")

	if st, _, body := e.call(t, signedCall{method: http.MethodPost, id: id, body: `{"text":"pushed"}`}); st != http.StatusOK {
		t.Fatalf("POST = %d %s", st, body)
	}
	if typ, msg := read(t, c); msg != `{"text":"pushed"}` || typ != ws.MessageText {
		t.Errorf("the client got %v %q", typ, msg)
	}
	if st, _, _ := e.call(t, signedCall{method: http.MethodPost, id: id, body: "\xff\xfe"}); st != http.StatusOK {
		t.Fatalf("binary POST = %d", st)
	}
	if typ, _ := read(t, c); typ != ws.MessageBinary {
		t.Errorf("bytes that are not UTF-8 went out as %v", typ)
	}

	st, _, body := e.call(t, signedCall{method: http.MethodGet, id: id})
	var info struct {
		ConnectedAt, LastActiveAt time.Time
		Identity                  struct{ SourceIP, UserAgent string }
	}
	if err := json.Unmarshal([]byte(body), &info); st != http.StatusOK || err != nil ||
		time.Since(info.ConnectedAt) > time.Minute || info.LastActiveAt.Before(info.ConnectedAt) || info.Identity.SourceIP != "127.0.0.1" {
		t.Fatalf("GET = %d %s (%v)", st, body, err)
	}

	if st, _, _ := e.call(t, signedCall{method: http.MethodDelete, id: id}); st != http.StatusNoContent {
		t.Fatalf("DELETE = %d", st)
	}
	if code, _ := closeStatus(t, c); code != ws.StatusNormalClosure {
		t.Errorf("DELETE closed with %d", code)
	}
	if dis := b.next(t); dis.Path != "/disconnect" || dis.Header.Get("X-Turnpike-Disconnect-Status-Code") != "1000" {
		t.Errorf("$disconnect after DELETE = %+v", dis)
	}
	for _, m := range []string{http.MethodPost, http.MethodGet, http.MethodDelete} {
		st, h, _ := e.call(t, signedCall{method: m, id: id, body: "late"})
		if st != http.StatusGone || h.Get("X-Amzn-Errortype") != "GoneException" {
			t.Errorf("%s on a closed connection = %d %s", m, st, h.Get("X-Amzn-Errortype"))
		}
	}
	for _, unknown := range []string{"AAAAAAAAAAAAAAAAAAAA", "nope"} {
		if st, _, _ := e.call(t, signedCall{method: http.MethodPost, id: unknown, body: "x"}); st != http.StatusGone {
			t.Errorf("POST to unknown id %s = %d, want 410", unknown, st)
		}
	}
}

// Posting to a connection while its $connect runs is 410, as on AWS: the
// connection exists only once $connect answered.
func TestConnectionsAPIIsGoneDuringConnect(t *testing.T) {
	b := newWSBackend(t)
	var e *wsEnv
	during := make(chan int, 1)
	b.handle("/connect", func(w http.ResponseWriter, r *http.Request) {
		st, _, _ := e.call(t, signedCall{method: http.MethodPost, id: r.Header.Get("X-Turnpike-Connection-Id"), body: "too early"})
		during <- st
	})
	e = newWSEnv(t, websocket.Limits{}, chatApi(t, b.route("$connect", "/connect")))
	e.mustDial(t, "/prod")
	if st := <-during; st != http.StatusGone {
		t.Errorf("POST during $connect = %d, want 410", st)
	}
}

// Unsigned, wrongly signed, signed by an unknown key, stale, replayed with
// another body: 403 with AWS's messages; the connection gets nothing.
func TestConnectionsAPIRefusesBadSignatures(t *testing.T) {
	e := newWSEnv(t, websocket.Limits{}, chatApi(t))
	c := e.mustDial(t, "/prod")
	id := onlyConnection(t, e)
	other := "other body"
	for _, tc := range []struct {
		name    string
		call    signedCall
		errType string
		message string
	}{
		{"unsigned", signedCall{keyID: "-"}, "MissingAuthenticationTokenException", "Missing Authentication Token"},
		{"wrong secret", signedCall{keyID: testKeyID, secret: "not-the-secret"}, "InvalidSignatureException", "The request signature we calculated does not match"},
		{"unknown key", signedCall{keyID: "AKIDUNKNOWNKEY000000", secret: testSecret}, "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"stale date", signedCall{at: time.Now().Add(-6 * time.Minute)}, "InvalidSignatureException", "Signature expired: "},
		{"future date", signedCall{at: time.Now().Add(6 * time.Minute)}, "InvalidSignatureException", "Signature not yet current: "},
		{"replayed with another body", signedCall{sentBody: &other}, "InvalidSignatureException", "The request signature we calculated does not match"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.call.method, tc.call.id, tc.call.body = http.MethodPost, id, "signed body"
			st, h, body := e.call(t, tc.call)
			if st != http.StatusForbidden || h.Get("X-Amzn-Errortype") != tc.errType || !strings.Contains(body, tc.message) {
				t.Errorf("= %d %s %s", st, h.Get("X-Amzn-Errortype"), body)
			}
			if strings.Contains(body, testSecret) || strings.Contains(e.log.String(), testSecret) {
				t.Error("the secret key leaked")
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if _, msg, err := c.Read(ctx); err == nil {
		t.Errorf("a refused call reached the client: %q", msg)
	}
}

// onlyConnection returns the id of the one open connection of e.
func onlyConnection(t *testing.T, e *wsEnv) string {
	t.Helper()
	for range 100 {
		if n := e.s.ws.Open(); n == 1 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	ids := e.s.ws.IDs()
	if len(ids) != 1 {
		t.Fatalf("open connections: %v", ids)
	}
	return ids[0]
}
