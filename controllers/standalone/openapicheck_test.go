package standalone

import (
	"testing"

	"k8s.io/kube-openapi/pkg/validation/spec"
	"k8s.io/kube-openapi/pkg/validation/strfmt"
	"k8s.io/kube-openapi/pkg/validation/validate"
	"k8s.io/utils/ptr"
)

// schemaCheck on single schemas, next to kube-openapi's validator: it
// passes what upstream passes on the plain path, and leaves the rest
// ("not sure") to upstream, never passing what upstream refuses.
func TestSchemaCheckPassesWhatUpstreamPassesOnThePlainPath(t *testing.T) {
	typed := func(typ string, edit func(*spec.Schema)) *spec.Schema {
		s := &spec.Schema{SchemaProps: spec.SchemaProps{Type: spec.StringOrArray{typ}}}
		if edit != nil {
			edit(s)
		}
		return s
	}
	int32Max := typed("integer", func(s *spec.Schema) { s.Format = "int32"; s.Maximum = ptr.To(599.0) })
	runes := typed("string", func(s *spec.Schema) { s.MaxLength = ptr.To[int64](2) })
	object := typed("object", func(s *spec.Schema) {
		s.Properties = map[string]spec.Schema{"a": *typed("string", func(s *spec.Schema) { s.Enum = []any{"x", "y"} })}
		s.Required = []string{"a"}
		s.AdditionalProperties = &spec.SchemaOrBool{Allows: false}
	})
	anyOf := typed("string", func(s *spec.Schema) { s.AnyOf = []spec.Schema{*typed("string", nil)} })
	// Bounds that do not fit the type are themselves errors upstream,
	// whatever the value (found in review: the check used to pass them).
	int32Beyond := typed("integer", func(s *spec.Schema) { s.Format = "int32"; s.Maximum = ptr.To(3000000000.0) })
	integerHalf := typed("integer", func(s *spec.Schema) { s.Minimum = ptr.To(0.5) })
	floatBeyond := typed("number", func(s *spec.Schema) { s.Format = "float"; s.Maximum = ptr.To(1e39) })
	int32Multiple := typed("integer", func(s *spec.Schema) { s.Format = "int32"; s.MultipleOf = ptr.To(4294967296.0) })
	cases := []struct {
		name   string
		schema *spec.Schema
		value  any
		// notSure: upstream passes, the check leaves it to upstream.
		notSure bool
	}{
		{"an int32 under its maximum", int32Max, int64(200), false},
		{"an int32 over its maximum", int32Max, int64(600), false},
		{"an int64 beyond int32", int32Max, int64(3000000000), false},
		{"an integral float for an integer", int32Max, 200.0, true},
		{"a string of 2 runes and 4 bytes", runes, "éé", false},
		{"a string of 3 runes", runes, "abc", false},
		{"an enum value", object, map[string]any{"a": "x"}, false},
		{"a value outside the enum", object, map[string]any{"a": "z"}, false},
		{"a missing required property", object, map[string]any{}, false},
		{"a property additionalProperties false forbids", object, map[string]any{"a": "x", "b": "x"}, false},
		{"a string for an object", object, "x", false},
		{"null", object, nil, false},
		{"anyOf", anyOf, "x", true},
		{"a maximum beyond int32", int32Beyond, int64(0), false},
		{"a fractional minimum on an integer", integerHalf, int64(1), false},
		{"a maximum beyond float", floatBeyond, 1.0, false},
		{"a multipleOf beyond int32", int32Multiple, int64(0), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			upstream := validate.NewSchemaValidator(tc.schema, nil, "", strfmt.Default).Validate(tc.value).IsValid()
			got := newSchemaCheck(tc.schema).root.passes(tc.value)
			want := upstream && !tc.notSure
			if got != want {
				t.Fatalf("passes = %t, want %t (upstream valid: %t)", got, want, upstream)
			}
			if tc.notSure && !upstream {
				t.Fatal("a not-sure case upstream refuses proves nothing")
			}
		})
	}
}
