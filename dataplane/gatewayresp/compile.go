package gatewayresp

import (
	"encoding/json"
	"fmt"
	"net/textproto"
	"regexp"
	"slices"
	"strings"
)

// Spec is one gateway response as the Api declares it, in AWS's shape.
type Spec struct {
	// StatusCode replaces the status of the answers of its type; 0 keeps it.
	StatusCode int `json:"statusCode,omitempty"`
	// ResponseParameters map "gatewayresponse.header.NAME" to a value.
	ResponseParameters map[string]string `json:"responseParameters,omitempty"`
	// ResponseTemplates map a content type to a body template.
	ResponseTemplates map[string]string `json:"responseTemplates,omitempty"`
}

// Responses are an Api's compiled gateway responses. A nil *Responses is
// valid: every answer keeps its built-in status and body.
type Responses struct {
	byType map[Type]*Response
	// specs are the sources, for the table dump and golden files.
	specs map[Type]Spec
}

// Response is the compiled customisation of one response type.
type Response struct {
	// Status replaces the built-in status; 0 keeps it.
	Status    int
	headers   []header
	templates []*Template
}

// header is one responseParameters entry: the canonical header name and
// where its value comes from.
type header struct {
	key string
	val value
}

// headerPrefix starts every responseParameters key.
const headerPrefix = "gatewayresponse.header."

// reservedHeaders may not be set by responseParameters: they frame the
// message, identify the request, or are hop-by-hop.
var reservedHeaders = map[string]bool{
	"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true,
	"Upgrade": true, "Trailer": true, "Te": true, "Proxy-Connection": true,
	"X-Request-Id": true, "X-Amzn-Requestid": true, "Apigw-Requestid": true, "X-Amzn-Errortype": true,
}

// Compile checks and compiles the gateway responses of an Api, keyed by
// response type. The error is a sentence for the Api's condition naming
// the offending key; nothing is compiled partially.
func Compile(specs map[string]Spec) (*Responses, error) {
	if len(specs) == 0 {
		return nil, nil
	}
	rs := &Responses{byType: make(map[Type]*Response, len(specs)), specs: make(map[Type]Spec, len(specs))}
	names := make([]string, 0, len(specs))
	for name := range specs {
		names = append(names, name)
	}
	slices.Sort(names) // the first error is the same every time
	for _, name := range names {
		t := Type(name)
		if !Known(t) {
			return nil, fmt.Errorf("gatewayResponses key %q is not an AWS gateway response type", name)
		}
		r, err := compileResponse(specs[name])
		if err != nil {
			return nil, fmt.Errorf("gatewayResponses.%s.%w", name, err)
		}
		rs.byType[t], rs.specs[t] = r, specs[name]
	}
	return rs, nil
}

func compileResponse(s Spec) (*Response, error) {
	if s.StatusCode != 0 && (s.StatusCode < 200 || s.StatusCode > 599) {
		return nil, fmt.Errorf("statusCode: %d is not a final HTTP status (200 to 599)", s.StatusCode)
	}
	r := &Response{Status: s.StatusCode}
	for _, k := range sortedKeys(s.ResponseParameters) {
		name, ok := strings.CutPrefix(k, headerPrefix)
		if !ok || name == "" {
			return nil, fmt.Errorf("responseParameters: key %q must be gatewayresponse.header.NAME", k)
		}
		key := textproto.CanonicalMIMEHeaderKey(name)
		if reservedHeaders[key] || strings.HasPrefix(key, "Proxy-") {
			return nil, fmt.Errorf("responseParameters: header %q is set by the gateway and cannot be mapped", name)
		}
		v, err := parseValue(s.ResponseParameters[k])
		if err != nil {
			return nil, fmt.Errorf("responseParameters[%q]: %w", k, err)
		}
		r.headers = append(r.headers, header{key: key, val: v})
	}
	for _, ct := range sortedKeys(s.ResponseTemplates) {
		t, err := compileTemplate(ct, s.ResponseTemplates[ct])
		if err != nil {
			return nil, fmt.Errorf("responseTemplates[%q]: %w", ct, err)
		}
		r.templates = append(r.templates, t)
	}
	return r, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// MarshalJSON shows the declared responses (the admin /table dump and
// golden files).
func (rs *Responses) MarshalJSON() ([]byte, error) {
	if rs == nil {
		return []byte("null"), nil
	}
	return json.Marshal(rs.specs)
}

// Resolve decides the answer of type t whose built-in status is status:
// the status to send and the customisation to apply (nil: the built-in
// body, no extra headers). A type the Api did not customise falls back to
// DEFAULT_4XX or DEFAULT_5XX (by the built-in status), as on AWS; the
// status is the type's own statusCode, else the fallback's, else the
// built-in one (so a statusCode on DEFAULT_4XX changes every 4XX answer
// that does not set its own).
func (rs *Responses) Resolve(t Type, status int) (int, *Response) {
	if rs == nil {
		return status, nil
	}
	def := rs.byType[fallback(status)]
	own := rs.byType[t]
	switch {
	case own != nil && own.Status != 0:
		status = own.Status
	case def != nil && def.Status != 0:
		status = def.Status
	}
	if own != nil {
		return status, own
	}
	return status, def
}

// EachHeader calls set with every header of r whose value is not empty
// for src.
func (r *Response) EachHeader(src *Source, set func(key, value string)) {
	for i := range r.headers {
		if v := r.headers[i].val.of(src); v != "" {
			set(r.headers[i].key, v)
		}
	}
}

// Template picks the body template for a request that accepts accept (its
// Accept header): the first media range of accept that names a template's
// content type exactly, else application/json, else the first content type
// in sorted order; nil when r has no templates (the built-in body).
func (r *Response) Template(accept string) *Template {
	if len(r.templates) == 0 {
		return nil
	}
	for rng := range strings.SplitSeq(accept, ",") {
		mt, _, _ := strings.Cut(rng, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
		for _, t := range r.templates {
			if t.contentType == mt {
				return t
			}
		}
	}
	for _, t := range r.templates {
		if t.contentType == "application/json" {
			return t
		}
	}
	return r.templates[0]
}

// vtl finds Velocity constructs the gateway does not evaluate.
var vtl = regexp.MustCompile(`#(set|if|elseif|else|end|foreach|macro|parse|include|stop|break|define|evaluate)\b|\$!|\$\{|\$(input|util|method)\b`)

// mediaTypePattern is a content type key: type/subtype without parameters.
var mediaTypePattern = regexp.MustCompile(`^[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+*-]+$`)
