package dataplane

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParsePath checks the invariants of an accepted path: segments are
// never empty, "." or "..", never hold "/", "\" or NUL once decoded, and the
// escaped segments rebuild the original path (so forwarding keeps escaping).
func FuzzParsePath(f *testing.F) {
	for _, s := range []string{"/", "/prod/pets/1", "/a/../b", "/%2e%2E", "/a%2Fb", "/a%5c", "/a%00", "//a", "/a//", "/a%zz", "/a%20b/", `/a\b`, "/a/..;/b", "/%c0%ae"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		p, hint, err := parsePath(in, nil, nil)
		if err != nil {
			if hint == "" {
				t.Fatalf("%q refused without a hint", in)
			}
			return
		}
		if len(p.raw) != len(p.dec) {
			t.Fatalf("%q: %d raw vs %d decoded segments", in, len(p.raw), len(p.dec))
		}
		for _, d := range p.dec {
			if d == "" || d == "." || d == ".." || strings.ContainsAny(d, "/\\\x00") ||
				strings.HasPrefix(d, ".;") || strings.HasPrefix(d, "..;") || !utf8.ValidString(d) {
				t.Fatalf("%q accepted with segment %q", in, d)
			}
		}
		rebuilt := "/" + strings.Join(p.raw, "/")
		if rebuilt != in && rebuilt+"/" != in {
			t.Fatalf("%q rebuilt as %q", in, rebuilt)
		}
	})
}
