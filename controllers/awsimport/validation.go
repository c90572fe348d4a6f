package awsimport

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// validatorSpec is one entry of x-amazon-apigateway-request-validators.
type validatorSpec struct {
	body, params bool
}

// convertValidators reads the request validators and the default one.
func (c *converter) convertValidators() error {
	c.validators = map[string]validatorSpec{}
	for name, v := range asMap(c.doc.Extensions[extRequestValidators]) {
		m := asMap(v)
		b, _ := m["validateRequestBody"].(bool)
		p, _ := m["validateRequestParameters"].(bool)
		c.validators[name] = validatorSpec{body: b, params: p}
	}
	c.defaultValidator = str(c.doc.Extensions[extRequestValidator])
	if c.defaultValidator != "" {
		if _, ok := c.validators[c.defaultValidator]; !ok {
			return fmt.Errorf("%s %q is not defined in %s", extRequestValidator, c.defaultValidator, extRequestValidators)
		}
	}
	return nil
}

var requiredParamRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,240}$`)

// requestValidation builds the Route's requestValidation from the
// operation's validator: its required parameters and its JSON body schema,
// with every $ref inlined.
func (c *converter) requestValidation(po pathOp) (*v1alpha1.RequestValidation, error) {
	name := c.defaultValidator
	if v, ok := po.op.Extensions[extRequestValidator]; ok {
		name = str(v)
	}
	if name == "" {
		return nil, nil
	}
	v, ok := c.validators[name]
	if !ok {
		return nil, fmt.Errorf("paths.%s.%s: %s %q is not defined in %s", po.path, strings.ToLower(po.method), extRequestValidator, name, extRequestValidators)
	}
	rv := &v1alpha1.RequestValidation{}
	if v.params {
		rv.RequiredParameters = c.requiredParameters(po)
	}
	if v.body {
		schema, err := c.bodySchema(po)
		if err != nil {
			return nil, err
		}
		rv.BodySchema = schema
	}
	if len(rv.RequiredParameters) == 0 && rv.BodySchema == nil {
		return nil, nil
	}
	return rv, nil
}

func (c *converter) requiredParameters(po pathOp) []string {
	params := map[string]*openapi3.Parameter{}
	var order []string
	for _, list := range []openapi3.Parameters{po.item.Parameters, po.op.Parameters} {
		for _, ref := range list {
			if ref == nil || ref.Value == nil {
				continue
			}
			key := ref.Value.In + "." + ref.Value.Name
			if _, seen := params[key]; !seen {
				order = append(order, key)
			}
			params[key] = ref.Value
		}
	}
	var out []string
	for _, key := range order {
		p := params[key]
		if !p.Required {
			continue
		}
		in := map[string]string{"query": "querystring", "header": "header", "path": "path"}[p.In]
		if in == "" {
			continue
		}
		if !requiredParamRE.MatchString(p.Name) {
			c.report.add(po.path, po.method, "parameters."+p.Name, "the required %s parameter name cannot be validated (letters, digits, '.', '_', '~', '-')", p.In)
			continue
		}
		if len(out) == 32 {
			c.report.add(po.path, po.method, "parameters."+p.Name, "only 32 required parameters are validated")
			continue
		}
		out = append(out, in+"."+p.Name)
	}
	return out
}

// bodySchema is the JSON schema of the operation's application/json body
// (or its only content type), $refs inlined; nil when it has none.
func (c *converter) bodySchema(po pathOp) (*apiextensionsv1.JSON, error) {
	if po.op.RequestBody == nil || po.op.RequestBody.Value == nil {
		return nil, nil
	}
	content := po.op.RequestBody.Value.Content
	mt := content.Get("application/json")
	if mt == nil && len(content) == 1 {
		for ct, m := range content {
			if strings.Contains(ct, "json") {
				mt = m
			}
		}
	}
	if mt == nil || mt.Schema == nil {
		return nil, nil
	}
	b, err := json.Marshal(mt.Schema)
	if err != nil {
		return nil, err
	}
	var s any
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	inlined, err := inlineRefs(s, c.root, nil)
	if err != nil {
		return nil, fmt.Errorf("paths.%s.%s: request body schema: %w", po.path, strings.ToLower(po.method), err)
	}
	if m, ok := inlined.(map[string]any); ok && len(m) == 0 {
		return nil, nil // AWS's Empty model accepts any body
	}
	out, err := json.Marshal(inlined)
	if err != nil {
		return nil, err
	}
	return &apiextensionsv1.JSON{Raw: out}, nil
}

// inlineRefs replaces every {"$ref": "#/..."} in v by the value it points to
// in root, recursively. stack holds the refs being inlined: meeting one again
// is a cycle, an error (AWS models cannot be recursive, and Turnpike's
// bodySchema is self-contained).
func inlineRefs(v any, root map[string]any, stack []string) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok {
			return inlineRef(ref, x, root, stack)
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := inlineRefs(e, root, stack)
			if err != nil {
				return nil, err
			}
			out[k] = r
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			r, err := inlineRefs(e, root, stack)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	}
	return v, nil
}

func inlineRef(ref string, node, root map[string]any, stack []string) (any, error) {
	if !strings.HasPrefix(ref, "#") {
		return nil, fmt.Errorf("$ref %q points outside the document: remote and file references are refused and never fetched", ref)
	}
	for i, s := range stack {
		if s == ref {
			return nil, fmt.Errorf("$ref cycle: %s", strings.Join(append(stack[i:], ref), " -> "))
		}
	}
	target, err := jsonPointer(root, ref[1:])
	if err != nil {
		return nil, fmt.Errorf("$ref %q: %w", ref, err)
	}
	resolved, err := inlineRefs(target, root, append(stack, ref))
	if err != nil {
		return nil, err
	}
	if len(node) == 1 {
		return resolved, nil
	}
	// OpenAPI 3.1 allows keywords beside $ref: they apply too.
	merged := map[string]any{}
	if m, ok := resolved.(map[string]any); ok {
		for k, e := range m {
			merged[k] = e
		}
	}
	for k, e := range node {
		if k == "$ref" {
			continue
		}
		r, err := inlineRefs(e, root, stack)
		if err != nil {
			return nil, err
		}
		merged[k] = r
	}
	return merged, nil
}

// jsonPointer follows an RFC 6901 pointer ("/components/schemas/Pet").
func jsonPointer(root any, ptr string) (any, error) {
	if ptr == "" {
		return root, nil
	}
	cur := root
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			next, ok := x[tok]
			if !ok {
				return nil, fmt.Errorf("%q not found", tok)
			}
			cur = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("index %q out of range", tok)
			}
			cur = x[i]
		default:
			return nil, fmt.Errorf("%q not found", tok)
		}
	}
	return cur, nil
}

// checkSchemaCycles refuses a $ref cycle anywhere among the models, as AWS
// refuses recursive models: a depth-first search over the graph of local
// $refs from every schema of components.schemas, linear in its size.
func checkSchemaCycles(root map[string]any) error {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var visit func(ref string, stack []string) error
	visit = func(ref string, stack []string) error {
		switch state[ref] {
		case done:
			return nil
		case visiting:
			i := slices.Index(stack, ref)
			return fmt.Errorf("$ref cycle: %s", strings.Join(append(stack[i:], ref), " -> "))
		}
		state[ref] = visiting
		target, err := jsonPointer(root, ref[1:])
		if err != nil {
			return fmt.Errorf("$ref %q: %w", ref, err)
		}
		for _, next := range localRefs(target) {
			if err := visit(next, append(stack, ref)); err != nil {
				return err
			}
		}
		state[ref] = done
		return nil
	}
	schemas := asMap(asMap(root["components"])["schemas"])
	for _, name := range sortedKeys(schemas) {
		ref := "#/components/schemas/" + strings.ReplaceAll(strings.ReplaceAll(name, "~", "~0"), "/", "~1")
		if err := visit(ref, nil); err != nil {
			return fmt.Errorf("components.schemas.%s: %w", name, err)
		}
	}
	return nil
}

// localRefs lists the local $refs in v, in a stable order.
func localRefs(v any) []string {
	var out []string
	switch x := v.(type) {
	case map[string]any:
		if ref, ok := x["$ref"].(string); ok && strings.HasPrefix(ref, "#") {
			out = append(out, ref)
		}
		for _, k := range sortedKeys(x) {
			out = append(out, localRefs(x[k])...)
		}
	case []any:
		for _, e := range x {
			out = append(out, localRefs(e)...)
		}
	}
	return out
}
