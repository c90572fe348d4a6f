package standalone

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
)

// corpus is every object of the five kinds in the repository's YAML: the
// samples, examples and the translator's and importer's test inputs.
func corpus(t *testing.T, v *Validator) []*unstructured.Unstructured {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		"../../config/samples/*.yaml", "../../docs/examples/*/*.yaml",
		"../translate/testdata/*.yaml", "../awsimport/testdata/golden/*.yaml",
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	var objs []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range splitDocuments(data) {
			u, _, err := d.decode()
			if err != nil || u == nil || !v.Handles(u.GroupVersionKind()) {
				continue
			}
			objs = append(objs, u)
		}
	}
	if len(objs) < 100 {
		t.Fatalf("only %d objects in the corpus", len(objs))
	}
	return objs
}

// mutationValues replace one value at a time: values that some rule of
// the CRDs refuses or that switch a rule's branch, and values of the wrong
// type.
var mutationValues = []any{
	"", "x", "GET /a/{p+}/b", "GET /a/../b", "FETCH x", "$default", "HTTP_PROXY", "SERVICE", "FUNCTION", "MOCK",
	"JWT", "NONE", "TOKEN", "REQUEST", "WEEK", "*", "1.0", "ftp://x", strings.Repeat("é", 300),
	int64(-1), int64(7), int64(101), int64(3000000000), 1.5, true, nil,
	map[string]any{"overwrite:header.Host": "x", "2xx": "y"}, []any{"*", "$request.querystring.t"},
}

// mutants returns obj's copies with one change each: a value replaced by
// each mutation value, a key removed, or a map given reserved keys.
func mutants(obj map[string]any) []map[string]any {
	out := []map[string]any{runtime.DeepCopyJSON(obj)}
	var walk func(path []any, v any)
	walk = func(path []any, v any) {
		if len(path) > 1 { // keep apiVersion, kind and metadata
			for _, r := range mutationValues {
				out = append(out, replaced(obj, path, runtime.DeepCopyJSONValue(r)))
			}
			out = append(out, replaced(obj, path, deleted{}))
		}
		switch v := v.(type) {
		case map[string]any:
			for _, k := range slices.Sorted(maps.Keys(v)) {
				if len(path) == 0 && k != "spec" {
					continue
				}
				walk(append(append([]any{}, path...), k), v[k])
			}
		case []any:
			for i, e := range v {
				walk(append(append([]any{}, path...), i), e)
			}
		}
	}
	walk(nil, obj)
	return out
}

// deleted as a replacement removes the key (or list element).
type deleted struct{}

func replaced(obj map[string]any, path []any, value any) map[string]any {
	c := runtime.DeepCopyJSON(obj)
	var parent any = c
	for _, p := range path[:len(path)-1] {
		switch p := p.(type) {
		case string:
			parent = parent.(map[string]any)[p]
		case int:
			parent = parent.([]any)[p]
		}
	}
	switch last := path[len(path)-1].(type) {
	case string:
		if _, del := value.(deleted); del {
			delete(parent.(map[string]any), last)
		} else {
			parent.(map[string]any)[last] = value
		}
	case int:
		if _, del := value.(deleted); del {
			value = nil
		}
		parent.([]any)[last] = value
	}
	return c
}

// The pre-checks pass an object exactly when the API server's validators
// report nothing for it, on the repository's objects and on thousands of
// one-change variants of them, valid and not, including values of the
// wrong type (which upstream also hands to CEL). (schemaCheck may leave
// valid rarities to upstream, integral floats for integers say; none occur
// here, so a difference means a check diverged.) Every third variant is
// checked (all of them take 10 s).
func TestPreChecksAgreeWithTheUpstreamValidators(t *testing.T) {
	v := newTestValidator(t)
	ctx := context.Background()
	var cel, schema [2]int // failed, passed
	n := 0
	for _, u := range corpus(t, v) {
		ks := v.kinds[u.GroupVersionKind()]
		for _, m := range mutants(u.Object) {
			if n++; n%3 != 0 {
				continue
			}
			obj := &unstructured.Unstructured{Object: m}
			if _, err := ks.coerce(obj); err != nil {
				continue
			}
			structuraldefaulting.Default(obj.Object, ks.structural)
			errs, _ := ks.cel.Validate(ctx, nil, ks.structural, obj.Object, nil, celconfig.RuntimeCELCostBudget)
			got := ks.celCheck.passes(ctx, obj.Object, celconfig.RuntimeCELCostBudget)
			if got != (len(errs) == 0) {
				t.Fatalf("%s %s: CEL pre-check passes=%t, upstream errors %v\nobject: %v", ks.gvk.Kind, u.GetName(), got, errs, obj.Object)
			}
			cel[b2i(got)]++
			errs = apiservervalidation.ValidateCustomResource(nil, obj.Object, ks.schemaValidator)
			got = ks.schemaCheck.passes(obj.Object)
			if got != (len(errs) == 0) {
				t.Fatalf("%s %s: schema pre-check passes=%t, upstream errors %v\nobject: %v", ks.gvk.Kind, u.GetName(), got, errs, obj.Object)
			}
			schema[b2i(got)]++
		}
	}
	t.Logf("CEL: %d passed, %d failed; schema: %d passed, %d failed", cel[1], cel[0], schema[1], schema[0])
	if min(cel[0], cel[1], schema[0], schema[1]) < 1000 {
		t.Fatal("the corpus no longer exercises both outcomes of both checks")
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
