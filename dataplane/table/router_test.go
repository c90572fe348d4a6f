package table

import (
	"slices"
	"testing"
)

func TestLookupOrder(t *testing.T) {
	tests := []struct {
		name   string
		routes []string
		method string
		path   string
		want   string // route key; "" means no route
		params []string
	}{
		{"a literal beats a variable", []string{"GET /pets/{id}", "GET /pets/dog"}, "GET", "/pets/dog", "GET /pets/dog", nil},
		{"a variable takes what no literal names", []string{"GET /pets/{id}", "GET /pets/dog"}, "GET", "/pets/cat", "GET /pets/{id}", []string{"cat"}},
		{"segments are compared from the left", []string{"GET /{a}/dog", "GET /pets/{b}"}, "GET", "/pets/dog", "GET /pets/{b}", []string{"dog"}},
		{"the request's method beats ANY", []string{"ANY /pets", "GET /pets"}, "GET", "/pets", "GET /pets", nil},
		{"ANY takes a method without its own route", []string{"ANY /pets", "GET /pets"}, "POST", "/pets", "ANY /pets", nil},
		{"ANY on a variable wins when the literal has another method only", []string{"ANY /pets/{id}", "GET /pets/dog"}, "POST", "/pets/dog", "ANY /pets/{id}", []string{"dog"}},
		{"a method route on the literal still wins over ANY on a variable", []string{"ANY /pets/{id}", "GET /pets/dog"}, "GET", "/pets/dog", "GET /pets/dog", nil},
		{"the search backtracks from a dead literal branch", []string{"GET /pets/dog", "GET /pets/{type}/food"}, "GET", "/pets/dog/food", "GET /pets/{type}/food", []string{"dog"}},
		{"non-greedy routes come before greedy ones", []string{"GET /{proxy+}", "GET /pets/{id}"}, "GET", "/pets/1", "GET /pets/{id}", []string{"1"}},
		{"a greedy route takes what no exact route matches", []string{"GET /{proxy+}", "GET /pets/{id}"}, "GET", "/pets/1/x", "GET /{proxy+}", []string{"pets/1/x"}},
		{"the deeper greedy prefix wins", []string{"GET /{proxy+}", "GET /pets/{proxy+}"}, "GET", "/pets/1/2", "GET /pets/{proxy+}", []string{"1/2"}},
		{"the deeper greedy prefix wins even over a method match", []string{"ANY /pets/{proxy+}", "GET /{proxy+}"}, "GET", "/pets/x", "ANY /pets/{proxy+}", []string{"x"}},
		{"a literal beats a variable among greedy routes", []string{"GET /{a}/{proxy+}", "GET /pets/{proxy+}"}, "GET", "/pets/x", "GET /pets/{proxy+}", []string{"x"}},
		{"a variable prefix serves other greedy paths", []string{"GET /{a}/{proxy+}", "GET /pets/{proxy+}"}, "GET", "/cats/x", "GET /{a}/{proxy+}", []string{"cats", "x"}},
		{"the method beats ANY among greedy routes", []string{"ANY /pets/{proxy+}", "GET /pets/{proxy+}"}, "GET", "/pets/x", "GET /pets/{proxy+}", []string{"x"}},
		{"ANY serves other methods among greedy routes", []string{"ANY /pets/{proxy+}", "GET /pets/{proxy+}"}, "DELETE", "/pets/x", "ANY /pets/{proxy+}", []string{"x"}},
		{"$default comes after exact routes", []string{"$default", "GET /pets"}, "GET", "/pets", "GET /pets", nil},
		{"$default comes after greedy routes", []string{"$default", "GET /{proxy+}"}, "GET", "/x", "GET /{proxy+}", []string{"x"}},
		{"$default takes what nothing else matches", []string{"$default", "GET /{proxy+}"}, "POST", "/x", "$default", nil},
		{"no route is nil", []string{"GET /pets"}, "GET", "/cats", "", nil},
		{"a method without a route is nil", []string{"GET /pets"}, "POST", "/pets", "", nil},
		{"the root route matches the empty path", []string{"GET /", "GET /{proxy+}"}, "GET", "/", "GET /", nil},
		{"a greedy variable needs at least one segment at the root", []string{"GET /{proxy+}"}, "GET", "/", "", nil},
		{"a greedy variable needs at least one segment after its prefix", []string{"GET /pets/{proxy+}"}, "GET", "/pets", "", nil},
		{"a shorter path does not match a longer route", []string{"GET /pets/{id}"}, "GET", "/pets", "", nil},
		{"matching is case-sensitive", []string{"GET /pets"}, "GET", "/Pets", "", nil},
		{"params come in path order", []string{"GET /pets/{id}/toys/{toy}"}, "GET", "/pets/1/toys/ball", "GET /pets/{id}/toys/{toy}", []string{"1", "ball"}},
		{"a greedy param joins the rest of the path", []string{"GET /files/{dir}/{path+}"}, "GET", "/files/d/a/b/c", "GET /files/{dir}/{path+}", []string{"d", "a/b/c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := stageOf(t, tc.routes...)
			s := segs(tc.path)
			r := st.Lookup(tc.method, s)
			got := ""
			if r != nil {
				got = r.Key
			}
			if got != tc.want {
				t.Fatalf("%s %s matched %q, want %q", tc.method, tc.path, got, tc.want)
			}
			if r != nil && !slices.Equal(r.Params(s).Values, tc.params) {
				t.Fatalf("params %q, want %q", r.Params(s).Values, tc.params)
			}
		})
	}
}

func TestParamNamesFollowThePath(t *testing.T) {
	st := stageOf(t, "GET /a/{x}/b/{y}/{rest+}")
	if got := st.Routes[0].ParamNames; !slices.Equal(got, []string{"x", "y", "rest"}) {
		t.Fatalf("ParamNames %q", got)
	}
}
