package awsimport

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/getkin/kin-openapi/openapi2"
	"github.com/getkin/kin-openapi/openapi2conv"
	"github.com/getkin/kin-openapi/openapi3"
	"sigs.k8s.io/yaml"
)

// extAnyMethod is AWS's catch-all operation of a path item. The loader moves
// it into the path item's additionalOperations under anyMethod before
// resolving references, so kin-openapi resolves the $refs inside it like
// those of any other operation.
const (
	extAnyMethod = "x-amazon-apigateway-any-method"
	anyMethod    = "ANY"
)

// sourceKind says what a document is.
type sourceKind int

const (
	kindOpenAPI3 sourceKind = iota
	kindSwagger2
	kindTemplate
)

// toJSON turns a JSON or YAML document into JSON. It is strict about
// duplicate keys (two definitions of one path or method are an error, as
// AWS's importer reports them) and returns the top-level object.
func toJSON(data []byte) ([]byte, map[string]any, error) {
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, nil, fmt.Errorf("not a JSON or YAML document: %w", err)
	}
	var top map[string]any
	if err := json.Unmarshal(js, &top); err != nil || top == nil {
		return nil, nil, errors.New("not an OpenAPI document or CloudFormation template: the document is not a JSON or YAML object")
	}
	return js, top, nil
}

// detect says which kind of source top is.
func detect(top map[string]any) (sourceKind, error) {
	if v, ok := top["swagger"]; ok {
		if fmt.Sprint(v) != "2.0" {
			return 0, fmt.Errorf("swagger version %q is not supported: only Swagger 2.0 and OpenAPI 3.0 and 3.1", fmt.Sprint(v))
		}
		return kindSwagger2, nil
	}
	if v, ok := top["openapi"]; ok {
		s, _ := v.(string)
		if !strings.HasPrefix(s, "3.0") && !strings.HasPrefix(s, "3.1") {
			return 0, fmt.Errorf("openapi version %q is not supported: only Swagger 2.0 and OpenAPI 3.0 and 3.1", fmt.Sprint(v))
		}
		return kindOpenAPI3, nil
	}
	if _, ok := top["Resources"]; ok {
		return kindTemplate, nil
	}
	return 0, errors.New("not an OpenAPI document (no \"openapi\" or \"swagger\" field) nor a CloudFormation or SAM template (no \"Resources\")")
}

// newLoader returns a kin-openapi loader that never reads another document:
// remote and file $refs are refused, never fetched.
func newLoader() *openapi3.Loader {
	l := openapi3.NewLoader()
	l.IsExternalRefsAllowed = false
	return l
}

// loadOpenAPI parses an OpenAPI 3.x or Swagger 2.0 document (JSON) into an
// OpenAPI 3 document with every local $ref resolved. AWS's ANY operations end
// up in PathItem.AdditionalOperations[anyMethod].
func loadOpenAPI(js []byte, kind sourceKind) (*openapi3.T, error) {
	var doc *openapi3.T
	var err error
	if kind == kindSwagger2 {
		doc, err = loadSwagger(js)
	} else {
		doc, err = loadOpenAPI3(js)
	}
	if err != nil {
		return nil, refError(err)
	}
	if doc.Paths == nil {
		doc.Paths = openapi3.NewPaths()
	}
	return doc, nil
}

func loadOpenAPI3(js []byte) (*openapi3.T, error) {
	doc := &openapi3.T{}
	if err := json.Unmarshal(js, doc); err != nil {
		return nil, fmt.Errorf("not a valid OpenAPI document: %w", err)
	}
	for path, item := range doc.Paths.Map() {
		raw, ok := item.Extensions[extAnyMethod]
		if !ok {
			continue
		}
		op := &openapi3.Operation{}
		if err := remarshal(raw, op); err != nil {
			return nil, fmt.Errorf("paths.%s.%s: %w", path, extAnyMethod, err)
		}
		setAny(item, op)
	}
	if err := newLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, err
	}
	return doc, nil
}

func loadSwagger(js []byte) (*openapi3.T, error) {
	doc2 := &openapi2.T{}
	if err := json.Unmarshal(js, doc2); err != nil {
		return nil, fmt.Errorf("not a valid Swagger 2.0 document: %w", err)
	}
	doc, err := openapi2conv.ToV3WithLoader(doc2, newLoader(), nil)
	if err != nil {
		return nil, err
	}
	for path, item2 := range doc2.Paths {
		raw, ok := item2.Extensions[extAnyMethod]
		if !ok {
			continue
		}
		op2 := &openapi2.Operation{}
		if err := remarshal(raw, op2); err != nil {
			return nil, fmt.Errorf("paths.%s.%s: %w", path, extAnyMethod, err)
		}
		op, err := openapi2conv.ToV3Operation(doc.Components, item2, op2, doc2.Consumes)
		if err != nil {
			return nil, fmt.Errorf("paths.%s.%s: %w", path, extAnyMethod, err)
		}
		setAny(doc.Paths.Value(path), op)
	}
	// The ANY operations were added after conversion: resolve their refs.
	if err := newLoader().ResolveRefsIn(doc, nil); err != nil {
		return nil, err
	}
	return doc, nil
}

func setAny(item *openapi3.PathItem, op *openapi3.Operation) {
	if item.AdditionalOperations == nil {
		item.AdditionalOperations = map[string]*openapi3.Operation{}
	}
	item.AdditionalOperations[anyMethod] = op
	delete(item.Extensions, extAnyMethod)
}

// refError words the loader's reference errors for a user: a remote or file
// $ref is refused (and was never fetched).
func refError(err error) error {
	var ext *openapi3.DisallowedExternalRefError
	if errors.As(err, &ext) {
		return fmt.Errorf("$ref %q points outside the document: remote and file references are refused and never fetched; inline the definition", ext.Ref)
	}
	return err
}

// remarshal converts a decoded JSON value into out through JSON.
func remarshal(in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}

// basePathOf is the base path of a document: Swagger's basePath (converted
// into servers[0]) or the path of the first server URL with its variables'
// defaults, without a trailing slash; "" for none.
func basePathOf(doc *openapi3.T) string {
	if len(doc.Servers) == 0 {
		return ""
	}
	s := doc.Servers[0]
	raw := s.URL
	for name, v := range s.Variables {
		if v != nil {
			raw = strings.ReplaceAll(raw, "{"+name+"}", v.Default)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	// AWS writes "https://host/{basePath}" with the default "/prod": clean
	// the doubled slash.
	p := path.Clean("/" + u.Path)
	if p == "/" {
		return ""
	}
	return p
}
