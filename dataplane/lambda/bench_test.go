package lambda

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// benchRequest is a typical FUNCTION request: a browser-like set of
// headers, a query, a path parameter and a 1 KiB JSON body.
func benchRequest() *Request {
	body := `{"items":[` + strings.Repeat(`{"id":12345,"name":"a pet","tags":["x","y"]},`, 30) + `{"id":0}]}`
	body = body[:1024-2] + "}]"
	h := http.Header{
		"Accept":          {"application/json"},
		"Accept-Encoding": {"gzip, deflate, br"},
		"Accept-Language": {"en-GB,en;q=0.9"},
		"Authorization":   {"Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2ln"},
		"Content-Type":    {"application/json"},
		"Content-Length":  {"1024"},
		"Cookie":          {"session=abc123; theme=dark"},
		"User-Agent":      {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36"},
		"X-Request-Id":    {"f0c1a2b3"},
		"X-Forwarded-For": {"192.0.2.10"},
	}
	return &Request{
		API: HTTP, Method: "POST", Path: "/prod/pets/42", RawQuery: "expand=tags&limit=10&limit=20",
		Host: "pets.shop.example.com", Header: h, Body: []byte(body),
		RouteKey: "POST /pets/{id}", ResourcePath: "/pets/{id}", Stage: "prod",
		PathParameters: map[string]string{"id": "42"}, StageVariables: map[string]string{"tier": "gold"},
		RequestID: "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", Time: time.Unix(1700000000, 123e6),
		SourceIP: "192.0.2.10", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36",
		DomainName: "pets.shop.example.com", AccountID: "shop", APIID: "pets", Protocol: "HTTP/1.1",
	}
}

// benchAnswer is a typical function answer: a 1 KiB JSON body as a string
// with two headers.
func benchAnswer(r *Request) []byte {
	ans, _ := json.Marshal(map[string]any{
		"statusCode": 200,
		"headers":    map[string]string{"Content-Type": "application/json", "Cache-Control": "no-store"},
		"body":       string(r.Body),
	})
	return ans
}

// BenchmarkFunctionRoundTrip is the codec's share of a FUNCTION request:
// encode the 2.0 event for a 1 KiB body and decode a 1 KiB answer (budget:
// under 20 µs and 10 allocations, issue 13).
func BenchmarkFunctionRoundTrip(b *testing.B) {
	for _, v := range []PayloadVersion{V2, V1} {
		b.Run(string(v), func(b *testing.B) {
			r := benchRequest()
			ans := benchAnswer(r)
			buf := make([]byte, 0, 8<<10)
			b.ReportAllocs()
			b.SetBytes(int64(len(r.Body) + len(ans)))
			for b.Loop() {
				if v == V2 {
					buf = AppendEventV2(buf[:0], r)
				} else {
					buf = AppendEventV1(buf[:0], r)
				}
				resp, err := DecodeResponse(ans, DecodeOptions{Version: v, API: HTTP})
				if err != nil || len(resp.Body) != len(r.Body) {
					b.Fatal(err)
				}
				resp.Release()
			}
		})
	}
}

// BenchmarkDecodeWithEncodingJSON is the baseline the decoder was measured
// against: encoding/json into a struct (what the answer decodes to with
// aws-lambda-go's own types), without validation.
func BenchmarkDecodeWithEncodingJSON(b *testing.B) {
	ans := benchAnswer(benchRequest())
	b.ReportAllocs()
	for b.Loop() {
		var resp struct {
			StatusCode      int                 `json:"statusCode"`
			Headers         map[string]string   `json:"headers"`
			MultiValue      map[string][]string `json:"multiValueHeaders"`
			Cookies         []string            `json:"cookies"`
			Body            string              `json:"body"`
			IsBase64Encoded bool                `json:"isBase64Encoded"`
		}
		if err := json.Unmarshal(ans, &resp); err != nil {
			b.Fatal(err)
		}
	}
}
