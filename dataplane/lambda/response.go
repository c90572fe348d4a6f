package lambda

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
)

// MaxPayloadBytes is Lambda's limit on a synchronous invocation's request
// and response payloads: 6,291,556 bytes, the number Lambda and the
// Runtime Interface Emulator put in their errors ("Response payload size
// (7340060 bytes) exceeded maximum allowed payload size (6291556 bytes).",
// errorType Function.ResponseSizeTooLarge). Read at most MaxPayloadBytes+1
// bytes of an answer; an event larger than this is refused before the
// call (REST answers 413 {"message": "Request Too Long"}).
const MaxPayloadBytes = 6291556

// DecodeOptions say how to read a function's answer.
type DecodeOptions struct {
	// Version is the integration's payload format version.
	Version PayloadVersion
	// API is the kind of Api: REST answers may hold only the five keys of
	// the 1.0 format; HTTP APIs ignore other keys.
	API APIType
	// KeepBase64 leaves a body with isBase64Encoded true as the base64 text
	// it is. REST APIs decode it only when the client's Accept (first media
	// type) matches binaryMediaTypes (DG:lambda-proxy-binary-media); the
	// dataplane decides that with MatchesBinaryMediaTypes. HTTP APIs always
	// decode.
	KeepBase64 bool
}

// Header is one response header; a name may repeat.
type Header struct{ Name, Value string }

// Response is a function's answer, validated. Its Body is valid until
// Release.
type Response struct {
	StatusCode int
	// Headers holds headers then multiValueHeaders, in answer order; a
	// name in multiValueHeaders replaces the same name (any case) in
	// headers, as AWS merges them. Names are valid field names, values hold
	// no CR, LF or NUL.
	Headers []Header
	// Cookies are a 2.0 answer's cookies: one Set-Cookie header each.
	Cookies []string
	// Body is the decoded body (base64 decoded unless KeepBase64).
	Body []byte
	// IsBase64Encoded is the answer's isBase64Encoded.
	IsBase64Encoded bool
	// Inferred is true for a 2.0 answer without statusCode: 200,
	// content-type application/json, the whole answer as body.
	Inferred bool

	buf    []byte
	arena  []byte
	fields fields
}

var responsePool = sync.Pool{New: func() any { return new(Response) }}

// Release gives the Response back for reuse; neither it nor its Body may
// be used afterwards.
func (r *Response) Release() {
	if cap(r.buf) > 64<<10 || cap(r.arena) > 64<<10 {
		*r = Response{} // do not pin large bodies in the pool
	} else {
		clear(r.Headers)
		clear(r.Cookies)
		*r = Response{Headers: r.Headers[:0], Cookies: r.Cookies[:0], buf: r.buf[:0], arena: r.arena[:0]}
	}
	responsePool.Put(r)
}

// fields are the raw JSON values of the top-level keys of an answer
// object (nil when absent), slices of the answer.
type fields struct {
	statusCode, headers, multiValueHeaders, cookies, body, isBase64Encoded []byte
	errorMessage, errorType                                                []byte
	unknown                                                                []byte // the first key outside the 1.0 format
}

// decoder is a pooled jsontext decoder reading from memory.
type decoder struct {
	d  *jsontext.Decoder
	bb bytes.Buffer
}

var decoderPool = sync.Pool{New: func() any {
	return &decoder{d: jsontext.NewDecoder(bytes.NewReader(nil))}
}}

// reset makes the decoder read v. Duplicate keys are allowed (the last
// wins, as in AWS's Java deserialiser) and invalid UTF-8 is replaced.
func (x *decoder) reset(v []byte) *jsontext.Decoder {
	x.bb = *bytes.NewBuffer(v)
	x.d.Reset(&x.bb, jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	return x.d
}

// DecodeResponse reads a function's answer (raw, the invocation's whole
// response body) as the Api of o would. A function error, an answer over
// MaxPayloadBytes or a malformed answer is an *Error; otherwise the caller
// owns the *Response until it calls Release.
func DecodeResponse(raw []byte, o DecodeOptions) (*Response, error) {
	if len(raw) > MaxPayloadBytes {
		return nil, tooLarge(len(raw))
	}
	x := decoderPool.Get().(*decoder)
	defer decoderPool.Put(x)
	r := responsePool.Get().(*Response)
	if err := r.decode(x, raw, o); err != nil {
		r.Release()
		return nil, err
	}
	return r, nil
}

func (r *Response) decode(x *decoder, raw []byte, o DecodeOptions) error {
	d := x.reset(raw)
	start, end, kind, err := topValue(d, raw, &r.fields)
	if err != nil {
		return malformed("the answer is not JSON (%v)", err)
	}
	if kind != '{' {
		if o.Version == V2 {
			r.infer(raw[start:end], kind)
			return nil
		}
		return malformed("the answer is %s, not a JSON object", kindName(kind))
	}
	f := &r.fields
	if f.statusCode == nil || isNull(f.statusCode) {
		if f.errorMessage != nil {
			return functionError(f)
		}
		switch {
		case o.Version == V2:
			r.infer(raw[start:end], kind)
			return nil
		case o.API == HTTP:
			return malformed("the answer has no statusCode")
		}
	}
	if o.API != HTTP && f.unknown != nil {
		return malformed("the answer has the key %s, which the 1.0 format does not allow (only statusCode, headers, multiValueHeaders, body, isBase64Encoded)", f.unknown)
	}
	return r.interpret(x, o)
}

// topValue reads the answer's one top-level value and, for an object, its
// keys into f. It returns the value's bounds in raw and its kind.
func topValue(d *jsontext.Decoder, raw []byte, f *fields) (start, end int, kind jsontext.Kind, err error) {
	*f = fields{}
	kind = d.PeekKind()
	if kind != '{' {
		v, err := d.ReadValue()
		if err != nil {
			return 0, 0, 0, err
		}
		end = int(d.InputOffset())
		start = end - len(v)
		return start, end, kind, atEOF(d)
	}
	if _, err := d.ReadToken(); err != nil {
		return 0, 0, 0, err
	}
	start = int(d.InputOffset()) - 1
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			return 0, 0, 0, err
		}
		v, err := d.ReadValue()
		if err != nil {
			return 0, 0, 0, err
		}
		e := int(d.InputOffset())
		f.set(name, raw[e-len(v):e])
	}
	if _, err := d.ReadToken(); err != nil {
		return 0, 0, 0, err
	}
	return start, int(d.InputOffset()), kind, atEOF(d)
}

// atEOF fails when anything but whitespace follows the value.
func atEOF(d *jsontext.Decoder) error {
	if _, err := d.ReadToken(); !errors.Is(err, io.EOF) {
		if err == nil {
			err = errors.New("more than one JSON value")
		}
		return err
	}
	return nil
}

// set files the raw value v under its quoted key name.
func (f *fields) set(name, v []byte) {
	if bytes.IndexByte(name, '\\') >= 0 {
		if u, err := jsontext.AppendUnquote(nil, name); err == nil {
			name, _ = jsontext.AppendQuote(nil, u)
		}
	}
	switch string(name) {
	case `"statusCode"`:
		f.statusCode = v
	case `"headers"`:
		f.headers = v
	case `"multiValueHeaders"`:
		f.multiValueHeaders = v
	case `"body"`:
		f.body = v
	case `"isBase64Encoded"`:
		f.isBase64Encoded = v
	case `"cookies"`:
		f.cookies = v
		f.other(name)
	case `"errorMessage"`:
		f.errorMessage = v
		f.other(name)
	case `"errorType"`:
		f.errorType = v
		f.other(name)
	default:
		f.other(name)
	}
}

func (f *fields) other(name []byte) {
	if f.unknown == nil {
		f.unknown = name
	}
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

func kindName(k jsontext.Kind) string {
	switch k {
	case '"':
		return "a JSON string"
	case '[':
		return "a JSON array"
	case '{':
		return "a JSON object"
	case '0', '-', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a JSON number"
	case 't', 'f':
		return "a JSON boolean"
	case 'n':
		return "JSON null"
	}
	return "not JSON"
}

// infer makes the 2.0 answer v, which has no statusCode, the body of a 200
// application/json response (DG:http-api-develop-integrations-lambda,
// "Lambda function response for format 2.0": a function output of
// "Hello from Lambda!" is interpreted as body Hello from Lambda!, an object
// as its JSON text). A JSON string becomes its contents; any other value
// (object, array, number, boolean, null) its JSON text as the function
// returned it.
func (r *Response) infer(v []byte, kind jsontext.Kind) {
	r.StatusCode, r.Inferred = 200, true
	r.Headers = append(r.Headers[:0], Header{Name: "Content-Type", Value: "application/json"})
	if kind == '"' {
		r.buf, _ = jsontext.AppendUnquote(r.buf[:0], v)
	} else {
		r.buf = append(r.buf[:0], v...)
	}
	r.Body = r.buf
}

// interpret validates and converts the fields of an answer object.
func (r *Response) interpret(x *decoder, o DecodeOptions) error {
	f := &r.fields
	status, err := statusCode(f.statusCode)
	if err != nil {
		return err
	}
	r.StatusCode = status
	b64, err := isBase64(f.isBase64Encoded)
	if err != nil {
		return err
	}
	r.IsBase64Encoded = b64
	if err := r.readHeaders(x, o.Version); err != nil {
		return err
	}
	return r.readBody(b64 && !o.KeepBase64)
}

// statusCode reads statusCode: a JSON integer or a string of one (AWS
// accepts "201": LocalStack's AWS-validated test_aws_proxy_response_
// payload_format_validation), absent or null meaning 200 (REST answers
// may leave it out). It must be a final HTTP status, 200 to 599: 1xx are
// interim responses that cannot end an exchange.
func statusCode(v []byte) (int, error) {
	if v == nil || isNull(v) {
		return 200, nil
	}
	text := v
	if v[0] == '"' {
		u, err := jsontext.AppendUnquote(nil, v)
		if err != nil {
			return 0, malformed("statusCode %s is not a number", v)
		}
		text = u
	} else if v[0] != '-' && (v[0] < '0' || v[0] > '9') {
		return 0, malformed("statusCode %s is not a number", v)
	}
	n, err := strconv.ParseFloat(string(text), 64)
	switch {
	case err != nil && !errors.Is(err, strconv.ErrRange):
		return 0, malformed("statusCode %s is not an integer", v)
	case n < 200 || n > 599:
		return 0, malformed("statusCode %s is not an HTTP status from 200 to 599", v)
	case n != float64(int(n)):
		return 0, malformed("statusCode %s is not an integer", v)
	}
	return int(n), nil
}

// isBase64 reads isBase64Encoded: a boolean, null (false), or the strings
// "true"/"false" (scalar coercion, as for statusCode).
func isBase64(v []byte) (bool, error) {
	switch string(v) {
	case "", "null", "false", `"false"`:
		return false, nil
	case "true", `"true"`:
		return true, nil
	}
	return false, malformed("isBase64Encoded %s is not a boolean", v)
}

func functionError(f *fields) error {
	msg := scalarText(f.errorMessage)
	typ := scalarText(f.errorType)
	if typ == "Function.ResponseSizeTooLarge" {
		cause := cmp.Or(msg, "the function's answer exceeds Lambda's payload limit")
		return &Error{Kind: ResponseTooLarge, Cause: cause, ErrorType: typ, Hint: hintTooLarge}
	}
	return &Error{
		Kind:      FunctionError,
		Cause:     "Lambda execution failed with status 200 due to customer function error: " + msg,
		ErrorType: typ,
		Hint:      fmt.Sprintf("the function failed (%s); its log says why", typ),
	}
}

// scalarText is a JSON string's contents, or another value's JSON text.
func scalarText(v []byte) string {
	if len(v) > 0 && v[0] == '"' {
		if u, err := jsontext.AppendUnquote(nil, v); err == nil {
			return string(u)
		}
	}
	return string(v)
}
