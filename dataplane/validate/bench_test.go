package validate

import (
	"fmt"
	"strings"
	"testing"
)

// twentyProperties is a schema with 20 typed properties, all required, the
// size of a typical AWS model.
func twentyProperties() string {
	var props, req []string
	for i := range 20 {
		var p string
		switch i % 4 {
		case 0:
			p = `{"type":"string","minLength":1,"maxLength":160}`
		case 1:
			p = `{"type":"integer","minimum":0,"maximum":1000000}`
		case 2:
			p = `{"type":"array","items":{"type":"string"},"maxItems":8}`
		default:
			p = `{"type":"string","enum":["red","green","blue"]}`
		}
		props = append(props, fmt.Sprintf(`"p%02d":%s`, i, p))
		req = append(req, fmt.Sprintf(`"p%02d"`, i))
	}
	return `{"type":"object","additionalProperties":false,"required":[` + strings.Join(req, ",") + `],"properties":{` + strings.Join(props, ",") + `}}`
}

// bodyOfAbout1KiB matches twentyProperties.
func bodyOfAbout1KiB() []byte {
	var fields []string
	for i := range 20 {
		var v string
		switch i % 4 {
		case 0:
			v = `"` + strings.Repeat("x", 110) + `"`
		case 1:
			v = "123456"
		case 2:
			v = `["alpha","beta","gamma","delta","epsilon","zeta","eta","theta"]`
		default:
			v = `"green"`
		}
		fields = append(fields, fmt.Sprintf(`"p%02d":%s`, i, v))
	}
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

func BenchmarkDecodeOnly(b *testing.B) {
	body := bodyOfAbout1KiB()
	for b.Loop() {
		_, _ = DecodeBody(body)
	}
}
func BenchmarkValidateOnly(b *testing.B) {
	s := mustSchema(b, twentyProperties())
	doc, _ := DecodeBody(bodyOfAbout1KiB())
	b.ReportAllocs()
	for b.Loop() {
		_ = s.Validate(doc)
	}
}
