package lambda

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-json-experiment/json/jsontext"
)

// enc appends one JSON document to b by hand: no maps are built and nothing
// is reflected on (Authorizer values of unusual Go types fall back to
// encoding/json). Strings are quoted by jsontext.AppendQuote (RFC 8785
// minimal escaping; invalid UTF-8 becomes U+FFFD, as encoding/json does);
// TestEventsMatchAReferenceBuiltWithMaps keeps the output equivalent to
// encoding/json's. Keys written with name are constant ASCII and not
// escaped. s is pooled scratch space (sorted keys, query pairs, an arena
// for decoded and joined values), so encoding allocates nothing.
type enc struct {
	b []byte
	s *scratch
}

// scratch is reusable working memory of one encoding.
type scratch struct {
	keys  []string
	pairs []queryPair
	arena []byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{} }}

func newEnc(dst []byte) enc {
	return enc{b: dst, s: scratchPool.Get().(*scratch)}
}

// done returns the document and gives the scratch space back.
func (e *enc) done() []byte {
	s := e.s
	clear(s.keys)
	s.keys, s.pairs, s.arena = s.keys[:0], s.pairs[:0], s.arena[:0]
	if cap(s.arena) > 1<<20 {
		s.arena = nil // do not pin a huge query in the pool
	}
	scratchPool.Put(s)
	e.s = nil
	return e.b
}

// sep writes the comma that separates this member or element from the
// previous one.
func (e *enc) sep() {
	if n := len(e.b); n > 0 && e.b[n-1] != '{' && e.b[n-1] != '[' && e.b[n-1] != ':' {
		e.b = append(e.b, ',')
	}
}

func (e *enc) name(k string) {
	e.sep()
	e.b = append(e.b, '"')
	e.b = append(e.b, k...)
	e.b = append(e.b, '"', ':')
}

// qname writes a member name that needs quoting (header names, query keys,
// map keys).
func qname[T ~string | ~[]byte](e *enc, k T) {
	e.sep()
	e.b = quote(e.b, k)
	e.b = append(e.b, ':')
}

func quote[T ~string | ~[]byte](b []byte, s T) []byte {
	b, _ = jsontext.AppendQuote(b, s) // the only error is invalid UTF-8, replaced
	return b
}

func (e *enc) str(k, v string) {
	e.name(k)
	e.b = quote(e.b, v)
}

// strOrNull writes v, or null when it is empty (1.0 fields AWS sends as
// null).
func (e *enc) strOrNull(k, v string) {
	if v == "" {
		e.null(k)
		return
	}
	e.str(k, v)
}

func (e *enc) null(k string) {
	e.name(k)
	e.b = append(e.b, "null"...)
}

func (e *enc) int(k string, v int64) {
	e.name(k)
	e.b = strconv.AppendInt(e.b, v, 10)
}

func (e *enc) bool(k string, v bool) {
	e.name(k)
	e.b = strconv.AppendBool(e.b, v)
}

func (e *enc) open(k string) {
	e.name(k)
	e.b = append(e.b, '{')
}

func (e *enc) openArray(k string) {
	e.name(k)
	e.b = append(e.b, '[')
}

func (e *enc) close()      { e.b = append(e.b, '}') }
func (e *enc) closeArray() { e.b = append(e.b, ']') }

// elem writes one string element of an array.
func (e *enc) elem(v string) {
	e.sep()
	e.b = quote(e.b, v)
}

// requestTimeLayout is AWS's $context.requestTime ("12/Mar/2020:19:03:58
// +0000"), always in UTC.
const requestTimeLayout = "02/Jan/2006:15:04:05 -0700"

func (e *enc) time(k string, t time.Time) {
	e.name(k)
	e.b = append(e.b, '"')
	e.b = t.UTC().AppendFormat(e.b, requestTimeLayout)
	e.b = append(e.b, '"')
}

// certTimeLayout is OpenSSL's rendering of certificate validity, as AWS
// sends it ("Aug  5 09:36:04 2021 GMT").
const certTimeLayout = "Jan _2 15:04:05 2006 GMT"

func (e *enc) certTime(k string, t time.Time) {
	e.name(k)
	e.b = append(e.b, '"')
	e.b = t.UTC().AppendFormat(e.b, certTimeLayout)
	e.b = append(e.b, '"')
}

// body writes body and isBase64Encoded; an empty body is left out
// (omitEmpty, 2.0) or sent as null (1.0).
func (e *enc) body(r *Request, omitEmpty bool) {
	switch {
	case len(r.Body) == 0 && omitEmpty:
	case len(r.Body) == 0:
		e.null("body")
	case r.Base64:
		e.name("body")
		e.b = append(e.b, '"')
		e.b = base64.StdEncoding.AppendEncode(e.b, r.Body)
		e.b = append(e.b, '"')
	default:
		e.name("body")
		e.b = quote(e.b, r.Body)
	}
	e.bool("isBase64Encoded", r.Base64)
}

// sortedKeys returns m's keys in order, in the scratch space.
func sortedKeys[V any](e *enc, m map[string]V) []string {
	keys := e.s.keys[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.s.keys = keys[:0]
	return keys
}

// stringMap writes m as an object sorted by key; an empty m is left out
// (empty "omit"), written as null ("null") or as {} ("{}").
func (e *enc) stringMap(k string, m map[string]string, empty string) {
	if len(m) == 0 {
		switch empty {
		case "null":
			e.null(k)
		case "{}":
			e.open(k)
			e.close()
		}
		return
	}
	e.open(k)
	for _, key := range sortedKeys(e, m) {
		qname(e, key)
		e.b = quote(e.b, m[key])
	}
	e.close()
}

// anyMap writes m (authorizer context or claims) sorted by key, each value
// as JSON (stringify false) or as AWS's string rendering of a JWT claim
// (stringify true).
func (e *enc) anyMap(k string, m map[string]any, stringify bool) {
	e.open(k)
	e.anyMembers(m, stringify)
	e.close()
}

func (e *enc) anyMembers(m map[string]any, stringify bool) {
	// The keys slice is copied: values may hold nested maps that reuse
	// the scratch keys.
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		qname(e, key)
		if stringify {
			e.b = quote(e.b, claimString(m[key]))
		} else {
			e.b = appendAny(e.b, m[key])
		}
	}
}

// appendAny writes a value decoded from JSON. Other Go types go through
// encoding/json; a value it cannot encode is written as null.
func appendAny(b []byte, v any) []byte {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return quote(b, t)
	case bool:
		return strconv.AppendBool(b, t)
	case json.Number:
		if t == "" {
			return append(b, '0')
		}
		return append(b, t...)
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			return append(b, "null"...)
		}
		return strconv.AppendFloat(b, t, 'g', -1, 64)
	case int:
		return strconv.AppendInt(b, int64(t), 10)
	case int64:
		return strconv.AppendInt(b, t, 10)
	case []string:
		b = append(b, '[')
		for i, s := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = quote(b, s)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendAny(b, x)
		}
		return append(b, ']')
	case map[string]any:
		e := enc{b: append(b, '{')}
		e.anyMembers(t, false)
		return append(e.b, '}')
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, raw...)
}

// claimString renders a JWT claim as HTTP APIs put it in
// requestContext.authorizer.jwt.claims, where every value is a string:
// numbers and booleans in JSON form, arrays as their elements joined by
// spaces inside brackets ("[admin users]", the rendering HTTP APIs are
// known for: aws-solutions-library-samples/guidance-for-claude-code-with-
// amazon-bedrock#802), objects as JSON text.
func claimString(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case []any:
		parts := make([]string, len(t))
		for i, x := range t {
			parts[i] = claimString(x)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case []string:
		return "[" + strings.Join(t, " ") + "]"
	}
	return string(appendAny(nil, v))
}
