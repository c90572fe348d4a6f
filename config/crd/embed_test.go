package crd

import (
	"slices"
	"testing"
)

func TestCRDsHoldTheFiveKindsWithAV1alpha1Schema(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range crds {
		if c.Spec.Group != "turnpike.io" {
			t.Errorf("%s: group %q, want turnpike.io", c.Name, c.Spec.Group)
		}
		found := false
		for _, v := range c.Spec.Versions {
			if v.Name == "v1alpha1" && v.Schema != nil && v.Schema.OpenAPIV3Schema != nil {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: no v1alpha1 version with an OpenAPI schema", c.Name)
		}
		kinds = append(kinds, c.Spec.Names.Kind)
	}
	slices.Sort(kinds)
	want := []string{"Api", "Authorizer", "Route", "Stage", "UsagePlan"}
	if !slices.Equal(kinds, want) {
		t.Fatalf("kinds = %v, want %v", kinds, want)
	}
}

func TestCRDsReturnsFreshObjectsOnEveryCall(t *testing.T) {
	a, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	a[0].Spec.Group = "changed"
	b, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	if b[0].Spec.Group != "turnpike.io" {
		t.Fatalf("second call saw the first caller's change: group %q", b[0].Spec.Group)
	}
}
