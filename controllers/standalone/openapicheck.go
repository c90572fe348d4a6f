package standalone

import (
	"reflect"
	"slices"

	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
)

// schemaCheck answers fast whether the API server's OpenAPI schema
// validation (kube-openapi's validate.SchemaValidator, as
// apiservervalidation.ValidateCustomResource runs it) would report nothing
// for an object. Upstream builds a validator for every property of every
// object node on each call (a copy of its spec.Schema included): 26% of a
// new 1,000-object file's parse and 42% of its allocations, after the CEL
// pre-check. schemaCheck walks the same spec.Schema, built once, and runs
// kube-openapi's own checks (validate.MaxLength, Pattern, FormatOf,
// MaximumNativeType, IsValueValidAgainstRange, ...) on the values in the
// order and under the conditions upstream's validators apply them.
//
// Like celCheck it is only a pre-check: it passes a value only on the
// plain path (a non-null value of the JSON type the schema names; no
// allOf, anyOf, oneOf, not, patternProperties, tuples, $ref) where every
// check succeeded; anything else is "not sure" and the caller runs
// upstream's validator, whose errors are then the ones reported.
type schemaCheck struct {
	root *schemaNode
}

// schemaNode is one spec.Schema with what its validators need.
type schemaNode struct {
	s *spec.Schema
	// plain is false when the schema uses a keyword schemaCheck does not
	// mirror; a value at such a node is "not sure".
	plain bool
	// numType and numFormat are what upstream's numberValidator derives
	// from the schema.
	numType, numFormat string
	// hasFormat: the format validator applies to strings.
	hasFormat  bool
	props      map[string]*schemaNode
	additional *schemaNode
	items      *schemaNode
}

// newSchemaCheck builds the check for the schema upstream's validator was
// built from (the second result of apiservervalidation.NewSchemaValidator).
func newSchemaCheck(s *spec.Schema) *schemaCheck {
	return &schemaCheck{root: newSchemaNode(s)}
}

func newSchemaNode(s *spec.Schema) *schemaNode {
	n := &schemaNode{s: s, plain: len(s.Type) == 1 && s.Ref.String() == "" &&
		len(s.AllOf) == 0 && len(s.AnyOf) == 0 && len(s.OneOf) == 0 && s.Not == nil &&
		len(s.Dependencies) == 0 && len(s.PatternProperties) == 0 && s.AdditionalItems == nil &&
		(s.Items == nil || len(s.Items.Schemas) == 0)}
	n.numType, n.numFormat = numberTypeAndFormat(s)
	n.hasFormat = strfmt.Default.ContainsName(s.Format)
	if len(s.Properties) > 0 {
		n.props = make(map[string]*schemaNode, len(s.Properties))
		for name, p := range s.Properties {
			n.props[name] = newSchemaNode(&p)
		}
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		n.additional = newSchemaNode(s.AdditionalProperties.Schema)
	}
	if s.Items != nil && s.Items.Schema != nil {
		n.items = newSchemaNode(s.Items.Schema)
	}
	return n
}

// numberTypeAndFormat is SchemaValidator.numberValidator's choice of the
// type and format whose range a number must fit.
func numberTypeAndFormat(s *spec.Schema) (typeName, format string) {
	if len(s.Type) != 1 {
		return "", ""
	}
	switch s.Type[0] {
	case "integer":
		if s.Format == "int32" || s.Format == "int64" {
			format = s.Format
		}
		return "integer", format
	case "number":
		if s.Format == "float" || s.Format == "double" {
			format = s.Format
		}
		return "number", format
	}
	return "", ""
}

// passes reports whether upstream's validator would find obj valid;
// false means "not sure".
func (c *schemaCheck) passes(obj map[string]any) bool {
	return c.root.passes(obj)
}

// passes is SchemaValidator.Validate on the plain path: the type, string,
// format, number, enum, array and object validators, each where upstream
// applies it.
func (n *schemaNode) passes(v any) bool {
	if !n.plain || !n.typeMatches(v) || !n.enumAllows(v) {
		return false
	}
	switch v := v.(type) {
	case string:
		return n.stringPasses(v)
	case int64, float64:
		return n.numberPasses(v)
	case []any:
		return n.arrayPasses(v)
	case map[string]any:
		return n.objectPasses(v)
	}
	return true // bool: only type and enum apply
}

// typeMatches is typeValidator.Validate, narrowed: the value has the JSON
// type the schema names (an integer also counts as a number). Upstream
// accepts more (integral floats as integers, any string or list where a
// non-numeric type has a format); those are left to upstream.
func (n *schemaNode) typeMatches(v any) bool {
	t := n.s.Type[0]
	switch v.(type) {
	case string:
		return t == "string"
	case bool:
		return t == "boolean"
	case int64:
		return t == "integer" || t == "number"
	case float64:
		return t == "number"
	case []any:
		return t == "array"
	case map[string]any:
		return t == "object"
	}
	return false
}

// enumAllows is basicCommonValidator.Validate.
func (n *schemaNode) enumAllows(v any) bool {
	if len(n.s.Enum) == 0 {
		return true
	}
	val := reflect.ValueOf(v)
	for _, e := range n.s.Enum {
		t := reflect.TypeOf(e)
		if t != nil && val.IsValid() && val.Type().ConvertibleTo(t) && reflect.DeepEqual(val.Convert(t).Interface(), e) {
			return true
		}
	}
	return false
}

// stringPasses is stringValidator.Validate and formatValidator.Validate.
func (n *schemaNode) stringPasses(v string) bool {
	s := n.s
	if s.MaxLength != nil && validate.MaxLength("", "", v, *s.MaxLength) != nil {
		return false
	}
	if s.MinLength != nil && validate.MinLength("", "", v, *s.MinLength) != nil {
		return false
	}
	if s.Pattern != "" && validate.Pattern("", "", v, s.Pattern) != nil {
		return false
	}
	return !n.hasFormat || validate.FormatOf("", "", s.Format, v, strfmt.Default) == nil
}

// numberPasses is numberValidator.Validate for a value it would pass. A
// bound that does not fit the schema's type and format (a maximum of
// 3000000000 on an int32, a fractional minimum on an integer) is itself an
// error upstream, whatever the value, so such a schema never passes here.
func (n *schemaNode) numberPasses(v any) bool {
	s := n.s
	if validate.IsValueValidAgainstRange(v, n.numType, n.numFormat, "", "") != nil {
		return false
	}
	for _, bound := range []*float64{s.MultipleOf, s.Maximum, s.Minimum} {
		if bound != nil && validate.IsValueValidAgainstRange(*bound, n.numType, n.numFormat, "", "") != nil {
			return false // upstream reports the bound
		}
	}
	if m := s.MultipleOf; m != nil && validate.MultipleOfNativeType("", "", v, *m) != nil {
		return false
	}
	if m := s.Maximum; m != nil && validate.MaximumNativeType("", "", v, *m, s.ExclusiveMaximum) != nil {
		return false
	}
	if m := s.Minimum; m != nil && validate.MinimumNativeType("", "", v, *m, s.ExclusiveMinimum) != nil {
		return false
	}
	return true
}

// arrayPasses is schemaSliceValidator.Validate without tuples.
func (n *schemaNode) arrayPasses(v []any) bool {
	s := n.s
	if n.items != nil {
		for _, e := range v {
			if !n.items.passes(e) {
				return false
			}
		}
	}
	size := int64(len(v))
	return (s.MinItems == nil || validate.MinItems("", "", size, *s.MinItems) == nil) &&
		(s.MaxItems == nil || validate.MaxItems("", "", size, *s.MaxItems) == nil) &&
		(!s.UniqueItems || validate.UniqueItems("", "", v) == nil)
}

// objectPasses is objectValidator.Validate without patternProperties.
func (n *schemaNode) objectPasses(v map[string]any) bool {
	s := n.s
	size := int64(len(v))
	if s.MinProperties != nil && size < *s.MinProperties || s.MaxProperties != nil && size > *s.MaxProperties {
		return false
	}
	closed := s.AdditionalProperties != nil && !s.AdditionalProperties.Allows
	for k, e := range v {
		p, known := n.props[k]
		switch {
		case known:
			if !p.passes(e) {
				return false
			}
		case closed:
			return false
		case n.additional != nil:
			if !n.additional.passes(e) {
				return false
			}
		}
	}
	return !slices.ContainsFunc(s.Required, func(k string) bool {
		_, ok := v[k]
		return !ok
	})
}
