// Package validate is the request validator of REST-style routes
// (Route.requestValidation, AWS request validators): required parameters
// and a JSON Schema for the body.
//
// Invariants:
//   - Schemas are compiled once, by the translator (CompileSchema); a
//     schema that does not compile is an error there, never a silent pass
//     at request time. Nothing is ever fetched: a "$ref" to another
//     document is refused.
//   - Draft 4 (AWS models) is the default draft; a schema that names
//     another draft in "$schema" (2020-12, ...) is compiled as that draft.
//   - The package reads what it is given and keeps nothing: it never reads
//     a request body itself (the dataplane reads it once, bounded, and
//     replays it).
package validate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"slices"
	"strings"
	"sync"

	"github.com/go-json-experiment/json/jsontext"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/turnpike-io/turnpike/dataplane/table"
	"github.com/turnpike-io/turnpike/dataplane/urlpath"
)

// schemaURL is the name the body schema is compiled under. It is not
// fetchable: every reference resolves inside the document or fails.
const schemaURL = "turnpike:///bodySchema.json"

// Schema is a compiled body schema; it implements table.BodySchema.
type Schema struct {
	schema *jsonschema.Schema
	src    json.RawMessage
}

// refuseLoader is the compiler's only loader: it refuses every document
// that is not the schema itself or a JSON Schema meta-schema (those are
// built into the library), so compiling never touches the network or disk.
type refuseLoader struct{}

// errRemote is refuseLoader's answer.
var errRemote = errors.New("remote $ref is refused")

func (refuseLoader) Load(string) (any, error) { return nil, errRemote }

// CompileSchema compiles a JSON Schema document. The error is the
// validator's message for the Route's condition.
func CompileSchema(src []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("bodySchema is not JSON: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseLoader(refuseLoader{})
	if err := c.AddResource(schemaURL, doc); err != nil {
		return nil, err
	}
	s, err := c.Compile(schemaURL)
	if err != nil {
		return nil, compileError(err)
	}
	return &Schema{schema: s, src: bytes.Clone(src)}, nil
}

// compileError turns the compiler's error into one line for a condition.
func compileError(err error) error {
	var invalid *jsonschema.SchemaValidationError
	var ve *jsonschema.ValidationError
	var load *jsonschema.LoadURLError
	switch {
	case errors.As(err, &invalid) && errors.As(invalid.Err, &ve):
		return fmt.Errorf("it is not a valid JSON Schema: %w", firstViolation(ve))
	case errors.As(err, &load):
		return fmt.Errorf("it references %s, another document: a remote $ref is refused, never fetched (put the schema under definitions and use \"#/definitions/...\")", load.URL)
	}
	return errors.New(strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), schemaURL, "bodySchema")), " "))
}

// MarshalJSON shows the schema's source (table dump, golden files).
func (s *Schema) MarshalJSON() ([]byte, error) {
	var out bytes.Buffer
	if err := json.Compact(&out, s.src); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// printer renders validation messages in English.
var printer = message.NewPrinter(language.English)

// Validate checks a document decoded by DecodeBody. The error names the
// first violation: where in the document and what.
func (s *Schema) Validate(doc any) error {
	err := s.schema.Validate(doc)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	return firstViolation(ve)
}

// firstViolation is the first leaf of a validation error, in one line.
func firstViolation(ve *jsonschema.ValidationError) error {
	for len(ve.Causes) > 0 {
		ve = ve.Causes[0]
	}
	return fmt.Errorf("at %s: %s", pointer(ve.InstanceLocation), ve.ErrorKind.LocalizedString(printer))
}

// pointer is a JSON Pointer to the instance location ("/" for the root).
func pointer(loc []string) string {
	if len(loc) == 0 {
		return "/"
	}
	var b strings.Builder
	for _, tok := range loc {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(tok))
	}
	return b.String()
}

// DecodeBody decodes a JSON request body for validation into the values
// the schema library reads (map[string]any, []any, string, bool, nil and
// json.Number, so numbers stay exact). An empty body is validated as {}
// (as AWS and LocalStack do). The tokens come from jsontext (strict: one
// value, valid UTF-8, no duplicate names, nesting bounded) through a pooled
// decoder; only the tree is built here. That is about twice as fast as
// encoding/json's reflection, which matters: the validation budget is
// 20 µs for a 1 KiB body (make bench).
func DecodeBody(body []byte) (any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := new(decoder)
	if len(body) <= maxPooledBody { // a big body would pin big buffers in the pool
		dec = decoders.Get().(*decoder)
		defer decoders.Put(dec)
	}
	dec.r.Reset(body)
	dec.d.Reset(&dec.r)
	defer dec.r.Reset(nil) // the pool keeps no request body
	v, err := decodeValue(&dec.d)
	if err != nil {
		return nil, err
	}
	if _, err := dec.d.ReadToken(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid character after top-level value")
	}
	return v, nil
}

// decoder is a reusable jsontext decoder over a byte slice: reusing one
// saves allocating and clearing its buffers for every body.
type decoder struct {
	r bytes.Reader
	d jsontext.Decoder
}

var decoders = sync.Pool{New: func() any { return new(decoder) }}

// maxPooledBody is the largest body decoded with a pooled decoder.
const maxPooledBody = 64 << 10

// decodeValue reads one JSON value from d.
func decodeValue(d *jsontext.Decoder) (any, error) {
	tok, err := d.ReadToken()
	if err != nil {
		return nil, err
	}
	switch tok.Kind() {
	case '{':
		m := map[string]any{}
		for d.PeekKind() != '}' {
			k, err := d.ReadToken()
			if err != nil {
				return nil, err
			}
			name := k.String() // before the next read voids the token
			if m[name], err = decodeValue(d); err != nil {
				return nil, err
			}
		}
		_, err := d.ReadToken()
		return m, err
	case '[':
		a := []any{}
		for d.PeekKind() != ']' {
			v, err := decodeValue(d)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		_, err := d.ReadToken()
		return a, err
	case '"':
		return tok.String(), nil
	case '0':
		return json.Number(tok.String()), nil
	case 't':
		return true, nil
	case 'f':
		return false, nil
	case 'n':
		return nil, nil
	}
	return nil, fmt.Errorf("unexpected JSON token %v", tok)
}

// IsJSON reports whether a body of contentType is validated as JSON: no
// Content-Type (AWS assumes application/json), application/json, or a
// +json structured syntax suffix. Anything else against a JSON schema is
// 415, as AWS's passthrough behaviour NEVER answers.
func IsJSON(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// RequiredParameters parses requiredParameters and puts them in the order
// AWS lists missing ones (by location: header, path, querystring; then by
// name), without duplicates.
func RequiredParameters(list []string) ([]table.Parameter, error) {
	out := make([]table.Parameter, 0, len(list))
	for _, s := range list {
		p, err := table.ParseParameter(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b table.Parameter) int {
		if c := strings.Compare(a.In, b.In); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return slices.Compact(out), nil
}

// Request is what parameter validation reads of a request.
type Request struct {
	// Header is the request header (canonical keys).
	Header map[string][]string
	// Query is the parsed query string.
	Query map[string][]string
	// Path are the matched route's path parameters.
	Path urlpath.Params
}

// MissingParameters returns the names of the required parameters that are
// missing or blank, in order. A repeated parameter is judged by its last
// value, the one AWS passes on in its single-value maps.
func MissingParameters(required []table.Parameter, r *Request) []string {
	var missing []string
	for _, p := range required {
		if blank(value(p, r)) {
			missing = append(missing, p.Name)
		}
	}
	return missing
}

func value(p table.Parameter, r *Request) string {
	var vs []string
	switch p.In {
	case table.InHeader:
		vs = r.Header[textproto.CanonicalMIMEHeaderKey(p.Name)]
	case table.InQueryString:
		vs = r.Query[p.Name]
	case table.InPath:
		v, _ := r.Path.Get(p.Name)
		return v
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[len(vs)-1]
}

func blank(s string) bool { return strings.TrimSpace(s) == "" }

// MissingMessage is AWS's message for missing parameters.
func MissingMessage(names []string) string {
	return "Missing required request parameters: [" + strings.Join(names, ", ") + "]"
}
