package standalone

import (
	"context"
	"reflect"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
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
