package lambda

import (
	"encoding/base64"
	"strings"

	"github.com/go-json-experiment/json/jsontext"
	"golang.org/x/net/http/httpguts"
)

// span is a string in the response's arena: [start, end).
type span struct{ start, end int }

// headerSpan is one header read from the answer, before the arena becomes
// a string.
type headerSpan struct {
	name, value span
	multi       bool
}

// readHeaders reads headers, multiValueHeaders and (2.0) cookies. Every
// name and value is unquoted into one arena that then becomes one string,
// so the headers cost one allocation together.
func (r *Response) readHeaders(x *decoder, v PayloadVersion) error {
	f := &r.fields
	var spans [16]headerSpan
	hs := spans[:0]
	var cookieBuf [8]span
	cookies := cookieBuf[:0]
	r.arena = r.arena[:0]
	var err error
	if hs, err = r.readHeaderObject(x, f.headers, hs, false); err != nil {
		return err
	}
	if v == V1 {
		if hs, err = r.readHeaderObject(x, f.multiValueHeaders, hs, true); err != nil {
			return err
		}
	}
	if v == V2 {
		if cookies, err = r.readCookies(x, f.cookies, cookies); err != nil {
			return err
		}
	}
	all := string(r.arena)
	for _, h := range hs {
		if !h.multi && overridden(all, h, hs) {
			continue
		}
		name, value := all[h.name.start:h.name.end], all[h.value.start:h.value.end]
		if !httpguts.ValidHeaderFieldName(name) {
			return malformed("the header name %q is not a valid HTTP field name", name)
		}
		if !httpguts.ValidHeaderFieldValue(value) {
			return malformed("the value of header %s holds a control character", name)
		}
		r.Headers = append(r.Headers, Header{Name: name, Value: value})
	}
	for _, c := range cookies {
		cookie := all[c.start:c.end]
		if !httpguts.ValidHeaderFieldValue(cookie) {
			return malformed("a cookie holds a control character")
		}
		r.Cookies = append(r.Cookies, cookie)
	}
	return nil
}

// overridden reports whether multiValueHeaders names h (a headers entry)
// too, in any case: then only the multi-value entries are sent
// (DG:set-up-lambda-proxy-integrations: "If the same key-value pair is
// specified in both, only the values from multiValueHeaders will appear").
func overridden(all string, h headerSpan, hs []headerSpan) bool {
	name := all[h.name.start:h.name.end]
	for _, m := range hs {
		if m.multi && strings.EqualFold(all[m.name.start:m.name.end], name) {
			return true
		}
	}
	return false
}

// readHeaderObject reads one header object: {name: value} or, when multi,
// {name: [values]}. Values may be strings, numbers or booleans (sent as
// their JSON text: AWS accepts a boolean header value, LocalStack's
// AWS-validated test_aws_proxy_response_payload_format_validation; numbers
// are accepted alike); null values are skipped. An object or array value,
// or a multi-value entry that is not an array (AWS answers 502/500), is
// malformed.
func (r *Response) readHeaderObject(x *decoder, raw []byte, hs []headerSpan, multi bool) ([]headerSpan, error) {
	key := "headers"
	if multi {
		key = "multiValueHeaders"
	}
	if raw == nil || isNull(raw) {
		return hs, nil
	}
	if raw[0] != '{' {
		return hs, malformed("%s is not a JSON object", key)
	}
	d := x.reset(raw)
	if _, err := d.ReadToken(); err != nil {
		return hs, malformed("%s: %v", key, err)
	}
	for d.PeekKind() != '}' {
		name, err := d.ReadValue()
		if err != nil {
			return hs, malformed("%s: %v", key, err)
		}
		nameSpan := r.unquote(name)
		if !multi {
			v, err := d.ReadValue()
			if err != nil {
				return hs, malformed("%s: %v", key, err)
			}
			if hs, err = r.addHeaderValue(hs, nameSpan, v, false, key); err != nil {
				return hs, err
			}
			continue
		}
		if d.PeekKind() == 'n' {
			_, _ = d.ReadValue()
			continue
		}
		if d.PeekKind() != '[' {
			return hs, malformed("multiValueHeaders[%s] is not an array of strings", r.arena[nameSpan.start:nameSpan.end])
		}
		if hs, err = r.readValueArray(d, hs, nameSpan); err != nil {
			return hs, err
		}
	}
	return hs, nil
}

func (r *Response) readValueArray(d *jsontext.Decoder, hs []headerSpan, name span) ([]headerSpan, error) {
	if _, err := d.ReadToken(); err != nil {
		return hs, malformed("multiValueHeaders: %v", err)
	}
	for d.PeekKind() != ']' {
		v, err := d.ReadValue()
		if err != nil {
			return hs, malformed("multiValueHeaders: %v", err)
		}
		if hs, err = r.addHeaderValue(hs, name, v, true, "multiValueHeaders"); err != nil {
			return hs, err
		}
	}
	_, err := d.ReadToken()
	return hs, err
}

// addHeaderValue files one header value v (raw JSON) under name.
func (r *Response) addHeaderValue(hs []headerSpan, name span, v []byte, multi bool, key string) ([]headerSpan, error) {
	switch v[0] {
	case 'n':
		return hs, nil
	case '{', '[':
		return hs, malformed("%s[%s] is %s, not a string", key, r.arena[name.start:name.end], kindName(jsontext.Kind(v[0])))
	case '"':
		return append(hs, headerSpan{name: name, value: r.unquote(v), multi: multi}), nil
	}
	start := len(r.arena)
	r.arena = append(r.arena, v...) // a number or a boolean, as written
	return append(hs, headerSpan{name: name, value: span{start, len(r.arena)}, multi: multi}), nil
}

// readCookies reads a 2.0 answer's cookies: an array of strings (an object
// is malformed: AWS answers 500).
func (r *Response) readCookies(x *decoder, raw []byte, cs []span) ([]span, error) {
	if raw == nil || isNull(raw) {
		return cs, nil
	}
	if raw[0] != '[' {
		return cs, malformed("cookies is not an array of strings")
	}
	d := x.reset(raw)
	if _, err := d.ReadToken(); err != nil {
		return cs, malformed("cookies: %v", err)
	}
	for d.PeekKind() != ']' {
		v, err := d.ReadValue()
		if err != nil {
			return cs, malformed("cookies: %v", err)
		}
		switch v[0] {
		case 'n':
		case '"':
			cs = append(cs, r.unquote(v))
		default:
			return cs, malformed("cookies holds %s, not a string", kindName(jsontext.Kind(v[0])))
		}
	}
	return cs, nil
}

// unquote appends a JSON string's contents to the arena.
func (r *Response) unquote(v []byte) span {
	start := len(r.arena)
	r.arena, _ = jsontext.AppendUnquote(r.arena, v) // invalid UTF-8 is replaced
	return span{start, len(r.arena)}
}

// readBody reads body: a string (numbers and booleans as their text, null
// as empty). An object or array is malformed: AWS requires a string
// (KC:malformed-502-api-gateway). With decode, the string is base64 and is
// decoded; standard alphabet, padding optional, line breaks ignored.
func (r *Response) readBody(decode bool) error {
	v := r.fields.body
	switch {
	case v == nil || isNull(v):
		r.buf = r.buf[:0]
	case v[0] == '"':
		r.buf, _ = jsontext.AppendUnquote(r.buf[:0], v)
	case v[0] == '{' || v[0] == '[':
		return malformed("body is %s, not a string: serialise it (JSON.stringify, json.dumps)", kindName(jsontext.Kind(v[0])))
	default:
		r.buf = append(r.buf[:0], v...)
	}
	r.Body = r.buf
	if !decode || len(r.buf) == 0 {
		return nil
	}
	n := len(r.buf)
	out, err := base64.StdEncoding.AppendDecode(r.buf, r.buf[:n])
	if err != nil {
		trimmed := strings.TrimRight(string(r.buf[:n]), "=")
		out, err = base64.RawStdEncoding.AppendDecode(r.buf[:n], []byte(trimmed))
	}
	if err != nil {
		return malformed("isBase64Encoded is true but body is not base64 (%v)", err)
	}
	r.buf = out
	r.Body = out[n:]
	return nil
}
