package lambda

import (
	"strings"
	"unicode/utf8"
)

// IsTextMediaType reports whether an HTTP API sends a request body of this
// Content-Type to Lambda as text (isBase64Encoded false): text/*, JSON,
// XML and JavaScript, including structured-syntax suffixes (+json, +xml).
// Everything else is base64-encoded, form data included: an HTTP API
// base64-encodes application/x-www-form-urlencoded bodies (LocalStack's
// AWS-validated test_lambda_handling_form_urlencoded_data shows the echoed
// form body arriving base64-encoded), and multipart bodies are binary by
// nature. A missing Content-Type is not text. AWS publishes no list;
// docs/lambda.md records this one.
func IsTextMediaType(contentType string) bool {
	mt := mediaType(contentType)
	if mt == "" {
		return false
	}
	if strings.HasPrefix(mt, "text/") {
		return true
	}
	switch mt {
	case "application/json", "application/javascript", "application/x-javascript",
		"application/ecmascript", "application/xml":
		return true
	}
	return strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml")
}

// HTTPBodyIsBinary decides isBase64Encoded for an HTTP API request: a body
// whose media type is not text, or that is not valid UTF-8 (a JSON string
// cannot carry it without loss), is base64-encoded. An empty body never is.
func HTTPBodyIsBinary(contentType string, body []byte) bool {
	return len(body) > 0 && (!IsTextMediaType(contentType) || !utf8.Valid(body))
}

// MatchesBinaryMediaTypes reports whether a REST API treats contentType as
// binary under its binaryMediaTypes (DG:api-gateway-payload-encodings):
// patterns are media types where "*" stands for a whole type or subtype
// ("image/*", "*/*"); matching ignores case and parameters. A request
// without Content-Type is matched as application/json, the type API
// Gateway assumes for it.
func MatchesBinaryMediaTypes(contentType string, patterns []string) bool {
	mt := mediaType(contentType)
	if mt == "" {
		mt = "application/json"
	}
	typ, sub, _ := strings.Cut(mt, "/")
	for _, p := range patterns {
		pt, ps, ok := strings.Cut(mediaType(p), "/")
		if !ok {
			continue
		}
		if (pt == "*" || pt == typ) && (ps == "*" || ps == sub) {
			return true
		}
	}
	return false
}

// mediaType is the lowercased type/subtype of a Content-Type value,
// without parameters and spaces.
func mediaType(v string) string {
	if i := strings.IndexByte(v, ';'); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if c := v[i]; 'A' <= c && c <= 'Z' {
			return strings.ToLower(v)
		}
	}
	return v
}
