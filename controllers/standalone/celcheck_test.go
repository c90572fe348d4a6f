package standalone

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/cel/common"
)

// The schemas below each node are reached through these methods; the
// comparison recurses into them instead of comparing pointers.
var schemaChildMethods = map[string]bool{
	"Items": true, "Properties": true, "AdditionalProperties": true, "WithTypeAndObjectMeta": true,
}

// sameSchema fails unless got answers every method of common.Schema as want
// does, at every node of the tree.
func sameSchema(t *testing.T, path string, got, want common.Schema) {
	t.Helper()
	if (got == nil) != (want == nil) {
		t.Fatalf("%s: got schema %v, want %v", path, got, want)
	}
	if got == nil {
		return
	}
	iface := reflect.TypeFor[common.Schema]()
	for i := range iface.NumMethod() {
		name := iface.Method(i).Name
		if schemaChildMethods[name] {
			continue
		}
		g, gPanic := callMethod(got, name)
		w, wPanic := callMethod(want, name)
		if gPanic != wPanic || !reflect.DeepEqual(g, w) {
			t.Fatalf("%s: %s() = %#v (panicked %t), want %#v (panicked %t)", path, name, g, gPanic, w, wPanic)
		}
	}
	gp, wp := got.Properties(), want.Properties()
	if (gp == nil) != (wp == nil) || len(gp) != len(wp) {
		t.Fatalf("%s: Properties() has %d entries (nil %t), want %d (nil %t)", path, len(gp), gp == nil, len(wp), wp == nil)
	}
	for name, w := range wp {
		sameSchema(t, path+"."+name, gp[name], w)
	}
	sameSchema(t, path+"[]", got.Items(), want.Items())
	ga, wa := got.AdditionalProperties(), want.AdditionalProperties()
	if (ga == nil) != (wa == nil) {
		t.Fatalf("%s: AdditionalProperties() = %v, want %v", path, ga, wa)
	}
	if wa != nil {
		if ga.Allows() != wa.Allows() {
			t.Fatalf("%s: AdditionalProperties().Allows() = %t, want %t", path, ga.Allows(), wa.Allows())
		}
		sameSchema(t, path+"{}", ga.Schema(), wa.Schema())
	}
	if want.IsXEmbeddedResource() {
		sameSchema(t, path+"(embedded)", got.WithTypeAndObjectMeta(), want.WithTypeAndObjectMeta())
	}
}

// callMethod calls the method without arguments name of v. Some of
// model.Structural's methods panic on a schema without value validations
// (AllOf); the adaptor must then panic too.
func callMethod(v any, name string) (result any, panicked bool) {
	defer func() {
		if recover() != nil {
			result, panicked = nil, true
		}
	}()
	return reflect.ValueOf(v).MethodByName(name).Call(nil)[0].Interface(), false
}

// Every kind gets the check, and its schema adaptor answers as upstream's.
func TestCachedSchemaAnswersAsTheUpstreamAdaptor(t *testing.T) {
	v := newTestValidator(t)
	for gvk, ks := range v.kinds {
		if ks.celCheck == nil {
			t.Fatalf("%s: no CEL pre-check; every object would run the slow upstream validator", gvk.Kind)
		}
		sameSchema(t, gvk.Kind, ks.celCheck.root.schema, &model.Structural{Structural: model.WithTypeAndObjectMeta(ks.structural)})
	}
}

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
	"JWT", "NONE", "TOKEN", "REQUEST", "WEEK", "*", "1.0", "ftp://x", int64(-1), int64(7), int64(101), true, nil,
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

// The pre-check passes an object exactly when the API server's CEL
// validator reports nothing for it, on the repository's objects and on
// thousands of one-change variants of them, valid and not, including
// values of the wrong type (which upstream also hands to CEL). Every
// third variant is checked (all of them take 10 s).
func TestCELCheckAgreesWithTheUpstreamValidator(t *testing.T) {
	v := newTestValidator(t)
	ctx := context.Background()
	var passed, failed int
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
				t.Fatalf("%s %s: pre-check passes=%t, upstream errors %v\nobject: %v", ks.gvk.Kind, u.GetName(), got, errs, obj.Object)
			}
			if got {
				passed++
			} else {
				failed++
			}
		}
	}
	t.Logf("%d objects passed, %d failed", passed, failed)
	if passed < 1000 || failed < 1000 {
		t.Fatalf("%d passed and %d failed: the corpus no longer exercises both outcomes", passed, failed)
	}
}

// The pre-check never passes an object whose rules cost the whole budget
// or more: with any budget under which it passes, upstream reports nothing.
func TestCELCheckPassesOnlyWithinTheCostBudget(t *testing.T) {
	v := newTestValidator(t)
	ctx := context.Background()
	u := decodeYAML(t, mappedRoute("    requestParameters: {'overwrite:header.x-a': v, 'append:querystring.q': w}\n"))
	ks := v.kinds[u.GroupVersionKind()]
	if _, err := v.DefaultAndValidate(ctx, u); err != nil {
		t.Fatal(err)
	}
	first := int64(0)
	for budget := int64(1); budget <= 10000 && first == 0; budget++ {
		if ks.celCheck.passes(ctx, u.Object, budget) {
			first = budget
		}
	}
	if first <= 1 {
		t.Fatalf("the pre-check first passes with budget %d; the rules cost something", first)
	}
	for _, budget := range []int64{first - 1, first, first + 1, first + 1000} {
		errs, _ := ks.cel.Validate(ctx, nil, ks.structural, u.Object, nil, budget)
		passes := ks.celCheck.passes(ctx, u.Object, budget)
		if passes && len(errs) > 0 {
			t.Errorf("budget %d: the pre-check passes, upstream reports %v", budget, errs)
		}
		if want := budget >= first; passes != want {
			t.Errorf("budget %d: passes = %t, want %t", budget, passes, want)
		}
	}
	if errs, _ := ks.cel.Validate(ctx, nil, ks.structural, u.Object, nil, first-2); len(errs) == 0 {
		t.Errorf("upstream passes with budget %d, where the rules' cost exceeds it", first-2)
	}
}
