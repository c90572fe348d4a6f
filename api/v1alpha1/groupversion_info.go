// Package v1alpha1 holds the Go types of Turnpike's five CRDs (Api, Route,
// Stage, Authorizer, UsagePlan) in the API group turnpike.io. The package
// carries kubebuilder markers and CEL rules only: no logic lives here, so the
// generated CRDs are the single source of truth for what one object can get
// wrong on its own. Cross-object checks live in controllers/translate.
//
// +kubebuilder:object:generate=true
// +groupName=turnpike.io
package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the API group and version of every Turnpike kind.
	GroupVersion = schema.GroupVersion{Group: "turnpike.io", Version: "v1alpha1"}

	// SchemeBuilder registers the Turnpike kinds with a runtime.Scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds the Turnpike kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
