package validate

import (
	"fmt"
	"strings"
	"testing"
)

// twentyProperties is a schema the size and shape of a typical AWS model:
// 20 required properties (strings with lengths and a pattern, bounded
// integers and numbers, booleans, enums, a string array and a nested
// object), no additional properties.
func twentyProperties() string {
	kinds := []string{
		`{"type":"string","minLength":1,"maxLength":160}`,
		`{"type":"string","pattern":"^[a-z0-9-]+$","maxLength":64}`,
		`{"type":"integer","minimum":0,"maximum":1000000}`,
		`{"type":"number","minimum":0}`,
		`{"type":"boolean"}`,
		`{"type":"string","enum":["red","green","blue"]}`,
		`{"type":"string","format":"email"}`,
	}
	var props, req []string
	for i := range 18 {
		props = append(props, fmt.Sprintf(`"p%02d":%s`, i, kinds[i%len(kinds)]))
		req = append(req, fmt.Sprintf(`"p%02d"`, i))
	}
	props = append(props, `"tags":{"type":"array","items":{"type":"string","maxLength":32},"maxItems":8}`,
		`"address":{"type":"object","required":["street","city"],"properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string","pattern":"^[0-9]{5}$"}}}`)
	req = append(req, `"tags"`, `"address"`)
	return `{"type":"object","additionalProperties":false,"required":[` + strings.Join(req, ",") + `],"properties":{` + strings.Join(props, ",") + `}}`
}

// bodyOfAbout1KiB matches twentyProperties.
func bodyOfAbout1KiB() []byte {
	values := []string{
		`"` + strings.Repeat("a long free-text value ", 7)[:150] + `"`,
		`"order-2026-000123-customer-reference-abcdef"`,
		`123456`,
		`1234.56`,
		`true`,
		`"green"`,
		`"first.last.customer@mail.example.com"`,
	}
	var fields []string
	for i := range 18 {
		fields = append(fields, fmt.Sprintf(`"p%02d":%s`, i, values[i%len(values)]))
	}
	fields = append(fields, `"tags":["alpha","beta","gamma","delta","epsilon","zeta"]`,
		`"address":{"street":"1 Infinite Loop, Building 4, Floor 2","city":"Cupertino","zip":"95014"}`)
	return []byte("{" + strings.Join(fields, ",") + "}")
}

// BenchmarkValidate1KiBBodyAgainst20Properties is the budget:
// decoding and validating a 1 KiB body against a 20-property schema stays
// under 20 µs (make bench records it in docs/benchmarks.md).
func BenchmarkValidate1KiBBodyAgainst20Properties(b *testing.B) {
	s := mustSchema(b, twentyProperties())
	body := bodyOfAbout1KiB()
	if len(body) < 900 || len(body) > 1200 {
		b.Fatalf("body has %d bytes", len(body))
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		doc, err := DecodeBody(body)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeBody1KiB is the decoding half of the budget's work.
func BenchmarkDecodeBody1KiB(b *testing.B) {
	body := bodyOfAbout1KiB()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeBody(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateDecoded1KiB is the schema library's half.
func BenchmarkValidateDecoded1KiB(b *testing.B) {
	s := mustSchema(b, twentyProperties())
	doc, err := DecodeBody(bodyOfAbout1KiB())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Validate(doc); err != nil {
			b.Fatal(err)
		}
	}
}
