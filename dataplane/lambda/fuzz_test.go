package lambda

import (
	"errors"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// FuzzDecodeResponse: any answer, under any options, is either a valid
// Response (a final status, valid header fields, a cookie list only for
// 2.0) or a classified *Error with a cause and a hint; never a panic. The
// seed corpus is in testdata/fuzz/FuzzDecodeResponse.
func FuzzDecodeResponse(f *testing.F) {
	for _, tc := range append(append([]responseCase{}, v2Cases...), v1Cases...) {
		f.Add([]byte(tc.raw), tc.o.Version == V2, tc.o.API == REST, tc.o.KeepBase64)
	}
	f.Fuzz(func(t *testing.T, raw []byte, v2, rest, keep bool) {
		o := DecodeOptions{Version: V1, API: HTTP, KeepBase64: keep}
		if v2 {
			o.Version = V2
		} else if rest {
			o.API = REST
		}
		resp, err := DecodeResponse(raw, o)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Kind < FunctionError || e.Kind > MalformedResponse || e.Cause == "" || e.Hint == "" {
				t.Fatalf("unclassified error %#v", err)
			}
			if resp != nil {
				t.Fatal("a response with an error")
			}
			return
		}
		defer resp.Release()
		if resp.StatusCode < 200 || resp.StatusCode > 599 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		for _, h := range resp.Headers {
			if !httpguts.ValidHeaderFieldName(h.Name) || !httpguts.ValidHeaderFieldValue(h.Value) {
				t.Fatalf("invalid header %q: %q", h.Name, h.Value)
			}
		}
		for _, c := range resp.Cookies {
			if !v2 || !httpguts.ValidHeaderFieldValue(c) {
				t.Fatalf("cookie %q from a %s answer", c, o.Version)
			}
		}
		if resp.Inferred && (!v2 || resp.StatusCode != 200) {
			t.Fatalf("inferred %s answer with status %d", o.Version, resp.StatusCode)
		}
	})
}
