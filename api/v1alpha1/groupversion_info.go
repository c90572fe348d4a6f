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
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the API group and version of every Turnpike kind.
	GroupVersion = schema.GroupVersion{Group: "turnpike.io", Version: "v1alpha1"}

	// SchemeBuilder registers the Turnpike kinds with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the Turnpike kinds to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&Api{}, &ApiList{},
		&Route{}, &RouteList{},
		&Stage{}, &StageList{},
		&Authorizer{}, &AuthorizerList{},
		&UsagePlan{}, &UsagePlanList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
