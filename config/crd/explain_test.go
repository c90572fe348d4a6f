package crd

import (
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// What `kubectl explain` shows (issue 19): no description repeats its own
// field name as a prefix ("routeKey is ..."), no field claims not to be
// built (every one is now), every kind has a short name, and
// requestParameters gives its syntax.
func TestExplainDescriptionsAreWrittenForUsers(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	notBuilt := map[string]bool{}
	var requestParameters string
	for _, c := range crds {
		if len(c.Spec.Names.ShortNames) == 0 || !strings.HasPrefix(c.Spec.Names.ShortNames[0], "tp") {
			t.Errorf("%s: short names %v, want tp...", c.Name, c.Spec.Names.ShortNames)
		}
		walk(c.Spec.Names.Kind, *c.Spec.Versions[0].Schema.OpenAPIV3Schema, func(path, name string, p apiextensionsv1.JSONSchemaProps) {
			d := p.Description
			for _, prefix := range []string{name + " ", name + ":"} {
				if name != "" && strings.HasPrefix(d, prefix) {
					t.Errorf("%s: description starts with the field name: %q", path, d[:min(len(d), 60)])
				}
			}
			if strings.Contains(d, "Not built yet") || strings.Contains(d, "not built yet") {
				notBuilt[path] = true
			}
			if path == "Route.spec.integration.requestParameters" {
				requestParameters = d
			}
		})
	}
	// Every field of the contract is built now: none may say otherwise. A
	// field added before its feature says so and is listed here.
	for path := range notBuilt {
		t.Errorf("%s says it is not built yet, but every field is", path)
	}
	for _, want := range []string{"overwrite:header.NAME", "overwrite:path", "$request.header.NAME", "$context.", "$stageVariables.NAME", "Example"} {
		if !strings.Contains(requestParameters, want) {
			t.Errorf("requestParameters does not give its syntax (%s): %q", want, requestParameters)
		}
	}
}

// walk calls f for every property below s, with its dotted path and name,
// not descending into the Kubernetes types the kinds embed.
func walk(path string, s apiextensionsv1.JSONSchemaProps, f func(path, name string, p apiextensionsv1.JSONSchemaProps)) {
	for name, p := range s.Properties {
		if path == "" || strings.Count(path, ".") == 0 && (name == "metadata" || name == "apiVersion" || name == "kind") {
			continue // Kubernetes' own fields
		}
		f(path+"."+name, name, p)
		if name == "conditions" || name == "apiKeySelector" {
			continue // Kubernetes' own types (metav1.Condition, LabelSelector)
		}
		walk(path+"."+name, p, f)
	}
	if s.Items != nil && s.Items.Schema != nil {
		walk(path, *s.Items.Schema, f)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		walk(path, *s.AdditionalProperties.Schema, f)
	}
}
