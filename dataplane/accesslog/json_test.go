package accesslog

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
)

// jsonLine is what AppendJSON must write for a Context, as encoding/json
// writes it: the reference the hand-written encoder is checked against.
type jsonLine struct {
	RequestID          string `json:"requestId"`
	IP                 string `json:"ip"`
	RequestTime        string `json:"requestTime"`
	HTTPMethod         string `json:"httpMethod"`
	RouteKey           string `json:"routeKey"`
	Path               string `json:"path"`
	Status             int    `json:"status"`
	Protocol           string `json:"protocol"`
	ResponseLength     int64  `json:"responseLength"`
	ResponseLatency    int64  `json:"responseLatency"`
	IntegrationLatency int64  `json:"integrationLatency"`
	IntegrationStatus  int    `json:"integrationStatus"`
	IntegrationError   string `json:"integrationErrorMessage"`
	ErrorMessage       string `json:"errorMessage"`
	ErrorHint          string `json:"errorHint"`
	Stage              string `json:"stage"`
	DomainName         string `json:"domainName"`
	API                string `json:"api"`
	PrincipalID        string `json:"principalId,omitempty"`
	AuthorizerError    string `json:"authorizerError,omitempty"`
	ErrorResponseType  string `json:"errorResponseType,omitempty"`
	CacheStatus        string `json:"cacheStatus,omitempty"`
	Canary             bool   `json:"canary,omitempty"`
	ConnectionID       string `json:"connectionId,omitempty"`
	EventType          string `json:"eventType,omitempty"`
	MessageID          string `json:"messageId,omitempty"`
}

func lineOf(c *reqctx.Context) jsonLine {
	return jsonLine{
		RequestID: c.RequestID, IP: c.SourceIP, RequestTime: c.RequestTimeText, HTTPMethod: c.HTTPMethod,
		RouteKey: c.RouteKey, Path: c.Path, Status: c.Status, Protocol: c.Protocol, ResponseLength: c.ResponseLength,
		ResponseLatency: c.ResponseLatency.Milliseconds(), IntegrationLatency: c.IntegrationLatency.Milliseconds(),
		IntegrationStatus: c.IntegrationStatus, IntegrationError: c.IntegrationError, ErrorMessage: c.ErrorMessage,
		ErrorHint: c.ErrorHint, Stage: c.Stage, DomainName: c.DomainName, API: c.Api(),
		PrincipalID: c.PrincipalID, AuthorizerError: c.AuthorizerError, Canary: c.Canary,
		ErrorResponseType: c.ErrorResponseType, CacheStatus: c.CacheStatus,
		ConnectionID: c.ConnectionID, EventType: c.EventType, MessageID: c.MessageID,
	}
}

// AppendJSON must write what encoding/json writes for the line, value for
// value, for any strings (quotes, control characters, invalid UTF-8,
// non-ASCII) and with the omitempty fields both empty and set.
func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "/", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f", "é", "☃", "\u2028", "\xff", "\xc3", "<", "&", " "}
	str := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return b.String()
	}
	for i := range 2000 {
		c := reqctx.Context{
			RequestID: str(), SourceIP: str(), RequestTimeText: str(), HTTPMethod: str(), RouteKey: str(), Path: str(),
			Status: rng.IntN(600), Protocol: str(), ResponseLength: rng.Int64(),
			ResponseLatency: time.Duration(rng.Int64N(1000)) * time.Millisecond, IntegrationLatency: -time.Duration(rng.Int64N(5)) * time.Millisecond,
			IntegrationStatus: rng.IntN(600), IntegrationError: str(),
			ErrorMessage: str(), ErrorHint: str(), Stage: str(), DomainName: str(), AccountID: str(), APIID: str(),
			PrincipalID: str(), AuthorizerError: str(), Canary: i%2 == 0,
			ErrorResponseType: str(), CacheStatus: str(),
			ConnectionID: str(), EventType: str(), MessageID: str(),
		}
		if i%3 == 0 {
			c.APIID = "" // no Api resolved: "api" is empty whatever the namespace
		}
		line := AppendJSON(nil, &c)
		if !bytes.HasSuffix(line, []byte("}\n")) || bytes.Count(line, []byte("\n")) != 1 {
			t.Fatalf("entry %d: not one line: %q", i, line)
		}
		want, err := json.Marshal(lineOf(&c))
		if err != nil {
			t.Fatal(err)
		}
		var got, exp map[string]any
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("entry %d: invalid JSON %q: %v", i, line, err)
		}
		if err := json.Unmarshal(want, &exp); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, exp) {
			t.Fatalf("entry %d:\n got %s\nwant %s", i, line, want)
		}
	}
}

// The writer fills requestTime from the request time, in AWS's layout, when
// the caller left the text empty; an explicit text is kept.
func TestRequestTimeFilledByTheWriter(t *testing.T) {
	var buf bytes.Buffer
	l := New(&buf, 4)
	at := time.Date(2026, 11, 26, 14, 3, 9, 0, time.FixedZone("", 3600))
	l.Log(Entry{Context: reqctx.Context{RequestID: "a", RequestTime: at}})
	l.Log(Entry{Context: reqctx.Context{RequestID: "b", RequestTime: at.Add(time.Second)}})
	l.Log(Entry{Context: reqctx.Context{RequestID: "c", RequestTime: at, RequestTimeText: "given"}})
	l.Close()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	want := []string{"26/Nov/2026:14:03:09 +0100", "26/Nov/2026:14:03:10 +0100", "given"}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		if m["requestTime"] != want[i] {
			t.Errorf("line %d requestTime %v, want %s", i, m["requestTime"], want[i])
		}
	}
}
