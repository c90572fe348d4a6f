package table

import (
	"strings"
	"testing"
)

func TestParseRouteKeyRejects(t *testing.T) {
	tests := []struct {
		name, key, want string
	}{
		{"a key without a space", "GET/pets", `must be "METHOD /path"`},
		{"$default, which has no pattern", "$default", `must be "METHOD /path"`},
		{"an unknown method", "FETCH /pets", "is not one of"},
		{"a lower-case method", "get /pets", "is not one of"},
		{"a path without a leading slash", "GET pets", "must start with /"},
		{"an empty segment", "GET /a//b", "empty segment"},
		{"a trailing slash", "GET /a/", "empty segment"},
		{"a dot-dot segment", "GET /a/../b", `"." and ".."`},
		{"a dot segment", "GET /./b", `"." and ".."`},
		{"a greedy variable before the end", "GET /{p+}/x", "only be the last segment"},
		{"an empty variable name", "GET /{}", "bad variable name"},
		{"a variable name starting with a digit", "GET /{1a}", "bad variable name"},
		{"an empty greedy name", "GET /{+}", "bad variable name"},
		{"a variable used twice", "GET /{id}/{id}", "appears twice"},
		{"a space in the path", "GET /a b", "not allowed"},
		{"a percent sign in a literal", "GET /a%2Fb", "not allowed"},
		{"a half-open brace", "GET /{id", "not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRouteKey(tc.key)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ParseRouteKey(%q) = %v, want an error containing %q", tc.key, err, tc.want)
			}
		})
	}
}

func TestParseRouteKeyAccepts(t *testing.T) {
	k, err := ParseRouteKey("ANY /v1/{id}/files/{path+}")
	if err != nil {
		t.Fatal(err)
	}
	want := []Segment{{Literal, "v1"}, {Variable, "id"}, {Literal, "files"}, {Greedy, "path"}}
	if k.Method != "ANY" || len(k.Segments) != len(want) || !k.Greedy() {
		t.Fatalf("got %+v", k)
	}
	for i := range want {
		if k.Segments[i] != want[i] {
			t.Fatalf("segment %d: %+v, want %+v", i, k.Segments[i], want[i])
		}
	}
	root, err := ParseRouteKey("GET /")
	if err != nil || len(root.Segments) != 0 || root.Greedy() || root.Pattern() != "GET /" {
		t.Fatalf("root: %+v %v", root, err)
	}
}

func TestPatternDecidesConflicts(t *testing.T) {
	tests := []struct {
		name     string
		a, b     string
		conflict bool
	}{
		{"keys differing only in variable names conflict", "GET /pets/{id}", "GET /pets/{petId}", true},
		{"greedy keys differing only in names conflict", "GET /{a}/{p+}", "GET /{b}/{q+}", true},
		{"a variable and a greedy variable do not conflict", "GET /pets/{id}", "GET /pets/{id+}", false},
		{"different methods do not conflict", "GET /pets", "ANY /pets", false},
		{"a literal and a variable do not conflict", "GET /pets/dog", "GET /pets/{id}", false},
		{"different depths do not conflict", "GET /pets", "GET /pets/{id}", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, errA := ParseRouteKey(tc.a)
			b, errB := ParseRouteKey(tc.b)
			if errA != nil || errB != nil {
				t.Fatal(errA, errB)
			}
			if (a.Pattern() == b.Pattern()) != tc.conflict {
				t.Fatalf("%q vs %q: patterns %q and %q", tc.a, tc.b, a.Pattern(), b.Pattern())
			}
		})
	}
}
