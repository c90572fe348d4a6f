package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/turnpike-io/turnpike/dataplane/reqctx"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// Input is what mapping values read about one request (and, for response
// mappings, its response). The dataplane fills one per request; it must not
// change while Apply runs. The zero value reads as an empty request.
type Input struct {
	// Header is the request's header as received (canonical keys).
	Header map[string][]string
	// RawQuery is the request's query string as received.
	RawQuery string
	// Path is the escaped request path after the stage prefix ($request.path).
	Path string
	// Params are the route's decoded path parameters.
	Params urlpath.Params
	// Body is the request body; read only when Request.NeedsBody says so.
	Body []byte
	// StageVariables of the stage (the canary's when the request is a canary).
	StageVariables map[string]string
	// Context is the request's $context (dataplane/reqctx); nil resolves
	// every $context variable to "".
	Context *reqctx.Context
	// ResponseHeader is the integration response's header (response mappings).
	ResponseHeader map[string][]string

	query       url.Values
	queryParsed bool
	body        any
	bodyParsed  bool
	bodyOK      bool
}

// lookup evaluates one variable part.
func (in *Input) lookup(p *part) string {
	switch p.src {
	case srcLiteral:
		return p.lit
	case srcHeader:
		return strings.Join(in.Header[p.name], ",")
	case srcResponseHeader:
		return strings.Join(in.ResponseHeader[p.name], ",")
	case srcQuery:
		if !in.queryParsed {
			in.query, _ = url.ParseQuery(in.RawQuery) // keeps the pairs that parse
			in.queryParsed = true
		}
		return strings.Join(in.query[p.name], ",")
	case srcPath:
		return in.Path
	case srcPathParam:
		v, _ := in.Params.Get(p.name)
		return v
	case srcBody:
		return in.bodyValue(p.path)
	case srcContext:
		if in.Context != nil {
			return in.Context.Text(p.ctx)
		}
	case srcStageVariable:
		return in.StageVariables[p.name]
	}
	return ""
}

// bodyValue selects path in the JSON body; malformed JSON and paths that
// select nothing yield "".
func (in *Input) bodyValue(path []step) string {
	if path == nil {
		return string(in.Body)
	}
	if !in.bodyParsed {
		in.body, in.bodyOK = parseBody(in.Body)
		in.bodyParsed = true
	}
	if !in.bodyOK {
		return ""
	}
	v, ok := selectPath(in.body, path)
	if !ok {
		return ""
	}
	return stringify(v)
}

// eval evaluates v against in.
func (v *Value) eval(in *Input) string {
	switch len(v.parts) {
	case 0:
		return ""
	case 1:
		return in.lookup(&v.parts[0])
	}
	var b strings.Builder
	for i := range v.parts {
		b.WriteString(in.lookup(&v.parts[i]))
	}
	return b.String()
}

// action is what an operation does; operations run in this order (all
// removes, then overwrites, then appends), so "remove" and "append" of one
// name replace the client's values with the mapped ones.
type action uint8

const (
	actRemove action = iota
	actOverwrite
	actAppend
)

// target is what an operation changes.
type target uint8

const (
	tgtHeader target = iota
	tgtQuery
	tgtPath
	tgtStatus
)

// op is one compiled mapping entry.
type op struct {
	act   action
	tgt   target
	name  string // canonical header name, or query name
	key   string // the key as written, for ordering
	value Value
}

// parseKey parses "append|overwrite|remove:header.NAME",
// "append|overwrite|remove:querystring.NAME" (requests only),
// "overwrite:path" (requests) and "overwrite:statuscode" (responses).
func parseKey(key string, ph phase) (op, error) {
	verb, what, ok := strings.Cut(key, ":")
	acts := map[string]action{"remove": actRemove, "overwrite": actOverwrite, "append": actAppend}
	act, known := acts[verb]
	if !ok || !known {
		return op{}, errors.New(`the key must start with "append:", "overwrite:" or "remove:"`)
	}
	o := op{act: act, key: key}
	kind, name, _ := strings.Cut(what, ".")
	switch {
	case what == "path" && ph == phaseRequest, what == "statuscode" && ph == phaseResponse:
		if act != actOverwrite {
			return op{}, errors.New(what + " can only be overwritten (overwrite:" + what + ")")
		}
		o.tgt = tgtPath
		if what == "statuscode" {
			o.tgt = tgtStatus
		}
	case kind == "header" && validHeaderName(name):
		if ReservedHeader(name) {
			return op{}, fmt.Errorf("header %q is reserved and cannot be mapped", name)
		}
		o.tgt, o.name = tgtHeader, textproto.CanonicalMIMEHeaderKey(name)
	case kind == "querystring" && name != "" && ph == phaseRequest:
		o.tgt, o.name = tgtQuery, name
	case ph == phaseRequest:
		return op{}, errors.New("expected header.NAME, querystring.NAME or path after the operation")
	default:
		return op{}, errors.New("expected header.NAME or statuscode after the operation")
	}
	return o, nil
}

// compileOps compiles a key/value map in key order; errors name the key.
func compileOps(params map[string]string, ph phase, field string) ([]op, error) {
	ops := make([]op, 0, len(params))
	for _, k := range slices.Sorted(maps.Keys(params)) {
		o, err := parseKey(k, ph)
		if err == nil && o.act != actRemove {
			o.value, err = compileValue(params[k], ph)
		}
		if err == nil && o.tgt == tgtStatus && len(o.value.parts) == 1 && o.value.parts[0].src == srcLiteral {
			if _, ok := statusCode(o.value.parts[0].lit); !ok {
				err = fmt.Errorf("status code %q is not an integer from 200 to 599", o.value.parts[0].lit)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("%s[%q]: %w", field, k, err)
		}
		ops = append(ops, o)
	}
	slices.SortStableFunc(ops, func(a, b op) int { return int(a.act) - int(b.act) })
	return ops, nil
}

// statusCode parses a mapped status code: an integer from 200 to 599.
func statusCode(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil && n >= 200 && n <= 599
}

// reservedPrefixes and reservedNames are the headers no mapping may touch:
// AWS's reserved headers for HTTP APIs, plus Host and the gateway's own
// x-turnpike-* headers. The Route CRD's CEL rule carries the same list.
var (
	reservedPrefixes = []string{"access-control-", "apigw-", "proxy-", "x-amz-", "x-amzn-", "x-forwarded-", "x-turnpike-"}
	reservedNames    = []string{
		"authorization", "connection", "content-encoding", "content-length", "content-location", "forwarded",
		"host", "keep-alive", "origin", "te", "trailer", "trailers", "transfer-encoding", "upgrade", "via",
	}
)

// ReservedHeader reports whether a mapping may not set or remove header name.
func ReservedHeader(name string) bool {
	n := strings.ToLower(name)
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return slices.Contains(reservedNames, n)
}

// headerValue makes a mapped value safe as a header field value: CR, LF and
// NUL (possible in JSON strings and decoded query values) become spaces.
func headerValue(v string) string {
	if !strings.ContainsAny(v, "\r\n\x00") {
		return v
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, v)
}

// applyHeader runs one header operation with its evaluated value. An empty
// value appends nothing and makes an overwrite a removal, so an overwrite
// from a missing claim never leaves a client-sent value in place.
func applyHeader(h map[string][]string, o *op, v string) {
	switch {
	case o.act == actRemove, o.act == actOverwrite && v == "":
		delete(h, o.name)
	case o.act == actOverwrite:
		h[o.name] = []string{headerValue(v)}
	case v != "":
		h[o.name] = append(h[o.name], headerValue(v))
	}
}

// marshalSource renders a compiled mapping as its source (golden tests and
// the admin table dump).
func marshalSource(src any) ([]byte, error) { return json.Marshal(src) }
