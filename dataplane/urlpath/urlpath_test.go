package urlpath

import (
	"maps"
	"testing"
)

func TestIsHexAndUnhex(t *testing.T) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		want := '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F'
		if IsHex(b) != want {
			t.Errorf("IsHex(%q) = %t", b, !want)
		}
	}
	for _, tc := range []struct {
		c    byte
		want byte
	}{{'0', 0}, {'9', 9}, {'a', 10}, {'f', 15}, {'A', 10}, {'F', 15}} {
		if got := Unhex(tc.c); got != tc.want {
			t.Errorf("Unhex(%q) = %d, want %d", tc.c, got, tc.want)
		}
	}
}

func TestEscapeSegments(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"dog", "dog"},
		{"a b", "a%20b"},
		{"100%", "100%25"},                     // a literal percent is data, never an escape
		{"%2e%2e", "%252e%252e"},               // an escape in a decoded value is escaped again
		{"a/b/c", "a/b/c"},                     // a greedy value keeps its separators
		{"a b/c?d", "a%20b/c%3Fd"},             // ... and each segment is escaped
		{"x/../y", "x/../y"},                   // dot segments are refused before routing, not here
		{"", ""},                               // an empty value
		{"é", "%C3%A9"},                        // non-ASCII as UTF-8 escapes
		{"a;b=c", "a%3Bb=c"},                   // ";" escaped: no backend reads a matrix parameter into it
		{"#frag", "%23frag"},                   // never a fragment
		{"a\x00b", "a%00b"},                    // control characters escaped
		{"/lead/trail/", "/lead/trail/"},       // separators at the ends stay separators
		{"we+ird&=", "we+ird&="},               // path-legal characters are left alone
		{"back\\slash", "back%5Cslash"},        // backslash escaped
		{"q?uery", "q%3Fuery"},                 // never a query
		{"50%/off", "50%25/off"},               // greedy value with a percent
		{"space /seg", "space%20/seg"},         // trailing space in a segment
		{"ü/ö", "%C3%BC/%C3%B6"},               // non-ASCII in every segment
		{"%", "%25"},                           // a lone percent
		{"%zz", "%25zz"},                       // a broken escape is data too
		{"a%2Fb", "a%252Fb"},                   // an escaped slash stays data
		{"tab\tx", "tab%09x"},                  // tabs escaped
		{"~tilde_-.", "~tilde_-."},             // unreserved characters untouched
		{"[v6]", "%5Bv6%5D"},                   // brackets escaped
		{"quote\"d", "quote%22d"},              // quotes escaped
		{"<tag>", "%3Ctag%3E"},                 // angle brackets escaped
		{"a|b", "a%7Cb"},                       // pipe escaped
		{"caret^", "caret%5E"},                 // caret escaped
		{"back`tick", "back%60tick"},           // backtick escaped
		{"{brace}", "%7Bbrace%7D"},             // braces escaped
		{"colon:at@", "colon:at@"},             // ':' and '@' are path-legal
		{"dollar$", "dollar$"},                 // '$' is a sub-delim
		{"star*(p)!'", "star%2A%28p%29%21%27"}, // url.PathEscape's choice for these sub-delims
	} {
		if got := EscapeSegments(tc.in); got != tc.want {
			t.Errorf("EscapeSegments(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParams(t *testing.T) {
	p := Params{Names: []string{"type", "proxy"}, Values: []string{"dog", "a/b"}}
	for _, tc := range []struct {
		name, want string
		ok         bool
	}{{"type", "dog", true}, {"proxy", "a/b", true}, {"missing", "", false}, {"", "", false}} {
		if got, ok := p.Get(tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Get(%q) = %q, %t; want %q, %t", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	if m := p.Map(); !maps.Equal(m, map[string]string{"type": "dog", "proxy": "a/b"}) {
		t.Errorf("Map() = %v", m)
	}
	// Fewer values than names (a route whose match supplied none): no value,
	// never a panic or a shifted value.
	short := Params{Names: []string{"a", "b"}, Values: []string{"1"}}
	if _, ok := short.Get("b"); ok {
		t.Error("Get of a parameter without a value succeeded")
	}
	if m := short.Map(); !maps.Equal(m, map[string]string{"a": "1"}) {
		t.Errorf("Map() of short params = %v", m)
	}
	if m := (Params{}).Map(); m != nil {
		t.Errorf("Map() of no params = %v, want nil", m)
	}
}
