package table

import (
	"strings"
	"testing"
)

// FuzzParseRouteKey checks that an accepted key has a known method, no empty
// or dot segments, a greedy variable only last, and that Pattern is stable
// under renaming variables (the conflict rule).
func FuzzParseRouteKey(f *testing.F) {
	for _, s := range []string{"GET /", "ANY /pets/{id}", "GET /{p+}", "GET /a/{b}/{c+}", "POST /a//b", "GET /{p+}/x", "$default"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, err := ParseRouteKey(key)
		if err != nil {
			return
		}
		if k.Method != AnyMethod && !routeMethods[k.Method] {
			t.Fatalf("%q: method %q", key, k.Method)
		}
		for i, s := range k.Segments {
			if s.Value == "" || s.Value == "." || s.Value == ".." || strings.ContainsAny(s.Value, "/{}") {
				t.Fatalf("%q: segment %+v", key, s)
			}
			if s.Kind == Greedy && i != len(k.Segments)-1 {
				t.Fatalf("%q: greedy segment %d is not last", key, i)
			}
		}
		renamed := k
		renamed.Segments = append([]Segment(nil), k.Segments...)
		for i := range renamed.Segments {
			if renamed.Segments[i].Kind != Literal {
				renamed.Segments[i].Value = "v" + renamed.Segments[i].Value
			}
		}
		if renamed.Pattern() != k.Pattern() {
			t.Fatalf("%q: pattern depends on variable names", key)
		}
	})
}
