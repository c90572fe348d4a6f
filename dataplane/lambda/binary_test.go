package lambda

import "testing"

func TestHTTPAPIsSendTextMediaTypesAsText(t *testing.T) {
	cases := map[string]bool{
		"text/plain": true, "text/html; charset=utf-8": true, "TEXT/CSV": true, "text/binary": true,
		"application/json": true, "Application/JSON; charset=UTF-8": true, "application/problem+json": true,
		"application/vnd.api+json": true, "application/xml": true, "image/svg+xml": true,
		"application/javascript": true, "application/x-javascript": true,
		"application/x-www-form-urlencoded": false, "multipart/form-data; boundary=x": false,
		"application/octet-stream": false, "image/png": false, "application/vnd.ms-excel": false,
		"": false, "json": false,
	}
	for ct, want := range cases {
		if got := IsTextMediaType(ct); got != want {
			t.Errorf("IsTextMediaType(%q) = %v", ct, got)
		}
	}
	for _, tc := range []struct {
		ct   string
		body string
		want bool
	}{
		{"application/json", `{"a":1}`, false},
		{"application/json", "\xff\xfe", true}, // not UTF-8: only base64 keeps it
		{"image/png", "\x89PNG", true},
		{"", "x", true},
		{"image/png", "", false}, // no body, nothing to encode
	} {
		if got := HTTPBodyIsBinary(tc.ct, []byte(tc.body)); got != tc.want {
			t.Errorf("HTTPBodyIsBinary(%q, %q) = %v", tc.ct, tc.body, got)
		}
	}
}

func TestRESTBinaryMediaTypesMatchWithWildcards(t *testing.T) {
	cases := []struct {
		ct       string
		patterns []string
		want     bool
	}{
		{"image/png", []string{"image/png"}, true},
		{"image/png", []string{"image/*"}, true},
		{"image/png", []string{"*/*"}, true},
		{"IMAGE/PNG; q=1", []string{"image/png"}, true},
		{"image/png", []string{"Image/PNG"}, true},
		{"image/png", []string{"image/jpeg", "application/*"}, false},
		{"application/octet-stream", []string{"*/octet-stream"}, true},
		{"text/plain", nil, false},
		{"", []string{"application/json"}, true}, // no Content-Type counts as application/json
		{"", []string{"*/*"}, true},
		{"", []string{"image/*"}, false},
		{"image/png", []string{"image"}, false}, // not a media type
		{"imagex/png", []string{"image/*"}, false},
	}
	for _, tc := range cases {
		if got := MatchesBinaryMediaTypes(tc.ct, tc.patterns); got != tc.want {
			t.Errorf("MatchesBinaryMediaTypes(%q, %q) = %v", tc.ct, tc.patterns, got)
		}
	}
}
