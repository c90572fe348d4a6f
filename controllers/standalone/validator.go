package standalone

import (
	"context"
	"fmt"

	apiextensionsinternal "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsvalidation "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	structuraldefaulting "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/defaulting"
	structurallisttype "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/listtype"
	schemaobjectmeta "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/objectmeta"
	structuralpruning "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/pruning"
	apiservervalidation "k8s.io/apiextensions-apiserver/pkg/apiserver/validation"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/operation"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/features"
	utilfeature "k8s.io/apiserver/pkg/util/feature"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/config/crd"
)

// Validator defaults and validates objects of the five Turnpike kinds in
// process, with the code the API server runs for a create request of a custom
// resource (k8s.io/apiextensions-apiserver): pruning of unknown fields,
// structural defaulting, OpenAPI schema validation, metadata and list-type
// checks, and the CRD's x-kubernetes-validations CEL rules. Its error messages
// are therefore the ones `kubectl apply` would print against a cluster.
//
// A Validator is immutable after construction and safe for concurrent use:
// the CEL programs are compiled once, in NewValidator.
//
// Two pre-checks (schemaCheck, celCheck) pass the common valid object
// without running upstream's OpenAPI and CEL validators, whose per-call
// setup dominated the time; they pass an object only when upstream would
// report nothing, so upstream still decides every other case and writes
// every error.
type Validator struct {
	kinds map[schema.GroupVersionKind]*kindSchema
}

// kindSchema is everything the API server's CR handler derives from one CRD
// version (customresource_handler.go and registry/customresource).
type kindSchema struct {
	gvk schema.GroupVersionKind
	// structural has its defaults pruned, as in the CR handler.
	structural      *structuralschema.Structural
	schemaValidator apiservervalidation.SchemaValidator
	// schemaCheck tells fast that schemaValidator would report nothing;
	// schemaValidator runs only when it cannot tell.
	schemaCheck *schemaCheck
	// cel is nil when the schema carries no CEL rules.
	cel *cel.Validator
	// celCheck, when not nil, tells fast that cel would report nothing;
	// cel runs only when it cannot tell.
	celCheck *celCheck
}

// NewValidator builds a Validator from the CRDs embedded in the binary
// (config/crd), so that standalone mode checks exactly the generated schemas.
func NewValidator() (*Validator, error) {
	crds, err := crd.CRDs()
	if err != nil {
		return nil, err
	}
	return NewValidatorForCRDs(crds)
}

// NewValidatorForCRDs builds a Validator from the v1alpha1 version of each
// given CRD. It fails if a CRD has no v1alpha1 schema or the schema is not
// structural, which the API server would also have refused.
func NewValidatorForCRDs(crds []*apiextensionsv1.CustomResourceDefinition) (*Validator, error) {
	v := &Validator{kinds: map[schema.GroupVersionKind]*kindSchema{}}
	for _, c := range crds {
		if err := ValidateCRD(context.Background(), c); err != nil {
			return nil, err
		}
		ks, err := newKindSchema(c, v1alpha1.GroupVersion.Version)
		if err != nil {
			return nil, fmt.Errorf("CRD %s: %w", c.Name, err)
		}
		v.kinds[ks.gvk] = ks
	}
	return v, nil
}

// ValidateCRD runs the API server's validation of a CRD create request on c
// (after the same defaulting), so a CRD that a cluster would refuse (for
// example a CEL rule that does not compile, or one over the cost budget) is
// refused here too, with the same messages. c is not modified.
func ValidateCRD(ctx context.Context, c *apiextensionsv1.CustomResourceDefinition) error {
	defaulted := c.DeepCopy()
	apiextensionsv1.SetObjectDefaults_CustomResourceDefinition(defaulted)
	internal := &apiextensionsinternal.CustomResourceDefinition{}
	if err := apiextensionsv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(defaulted, internal, nil); err != nil {
		return fmt.Errorf("CRD %s: converting to internal: %w", c.Name, err)
	}
	// The CRD strategy's PrepareForCreate records the storage version.
	internal.Status = apiextensionsinternal.CustomResourceDefinitionStatus{}
	for _, v := range internal.Spec.Versions {
		if v.Storage {
			internal.Status.StoredVersions = []string{v.Name}
		}
	}
	if errs := apiextensionsvalidation.ValidateCustomResourceDefinition(ctx, internal); len(errs) > 0 {
		return apierrors.NewInvalid(schema.GroupKind{Group: apiextensionsv1.GroupName, Kind: "CustomResourceDefinition"}, c.Name, errs)
	}
	return nil
}

func newKindSchema(c *apiextensionsv1.CustomResourceDefinition, version string) (*kindSchema, error) {
	var val *apiextensionsv1.CustomResourceValidation
	for i := range c.Spec.Versions {
		if c.Spec.Versions[i].Name == version {
			val = c.Spec.Versions[i].Schema
		}
	}
	if val == nil || val.OpenAPIV3Schema == nil {
		return nil, fmt.Errorf("no schema for version %s", version)
	}
	internal := &apiextensionsinternal.CustomResourceValidation{}
	if err := apiextensionsv1.Convert_v1_CustomResourceValidation_To_apiextensions_CustomResourceValidation(val, internal, nil); err != nil {
		return nil, fmt.Errorf("converting the schema to internal: %w", err)
	}
	s, err := structuralschema.NewStructural(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("the schema is not structural: %w", err)
	}
	// The CR handler does not own s completely (defaults are shared), so it
	// prunes the defaults of a copy; do the same.
	s = s.DeepCopy()
	if err := structuraldefaulting.PruneDefaults(s); err != nil {
		return nil, fmt.Errorf("pruning defaults: %w", err)
	}
	sv, openapiSchema, err := apiservervalidation.NewSchemaValidator(internal.OpenAPIV3Schema)
	if err != nil {
		return nil, fmt.Errorf("building the schema validator: %w", err)
	}
	return &kindSchema{
		gvk:             schema.GroupVersionKind{Group: c.Spec.Group, Version: version, Kind: c.Spec.Names.Kind},
		structural:      s,
		schemaValidator: sv,
		schemaCheck:     newSchemaCheck(openapiSchema),
		cel:             cel.NewValidator(s, true, celconfig.PerCallLimit),
		celCheck:        newCELCheck(s, celconfig.PerCallLimit),
	}, nil
}

// Handles reports whether gvk is one of the kinds this Validator checks.
func (v *Validator) Handles(gvk schema.GroupVersionKind) bool {
	_, ok := v.kinds[gvk]
	return ok
}

// DefaultAndValidate turns u into what the API server would store for a
// create request: it prunes unknown fields, applies the schema's defaults,
// drops status (every kind has a status subresource, so create ignores it)
// and validates the result. u is modified in place. The returned warnings
// name pruned unknown fields as the API server's warnings do
// (`unknown field "spec.x"`). The error, if any, is the API server's
// *StatusError of reason Invalid, e.g.
// `Route.turnpike.io "r" is invalid: spec.routeKey: Invalid value: "string": ...`.
//
// The namespace must already be set: the API server takes it from the request.
func (v *Validator) DefaultAndValidate(ctx context.Context, u *unstructured.Unstructured) ([]string, error) {
	gvk := u.GroupVersionKind()
	ks, ok := v.kinds[gvk]
	if !ok {
		return nil, fmt.Errorf("no schema for %s", gvk)
	}
	gk := gvk.GroupKind()
	warnings, err := ks.coerce(u)
	if err != nil {
		return warnings, apierrors.NewBadRequest(fmt.Sprintf("%s %q: %v", gk.String(), u.GetName(), err))
	}
	structuraldefaulting.Default(u.Object, ks.structural)
	delete(u.Object, "status")
	if errs := ks.validate(ctx, u); len(errs) > 0 {
		return warnings, apierrors.NewInvalid(gk, u.GetName(), errs)
	}
	return warnings, nil
}

// coerce is unstructuredSchemaCoercer.apply of the CR handler, with unknown
// field paths tracked as for a request in "warn" field-validation mode.
func (ks *kindSchema) coerce(u *unstructured.Unstructured) ([]string, error) {
	objectMeta, foundMeta, unknown, err := schemaobjectmeta.GetObjectMetaWithOptions(u.Object, schemaobjectmeta.ObjectMetaOptions{ReturnUnknownFieldPaths: true})
	if err != nil {
		return nil, err
	}
	unknown = append(unknown, structuralpruning.PruneWithOptions(u.Object, ks.structural, true,
		structuralschema.UnknownFieldPathOptions{TrackUnknownFieldPaths: true})...)
	structuraldefaulting.PruneNonNullableNullsWithoutDefaults(u.Object, ks.structural)
	ferr, paths := schemaobjectmeta.CoerceWithOptions(nil, u.Object, ks.structural, false,
		schemaobjectmeta.CoerceOptions{ReturnUnknownFieldPaths: true})
	if ferr != nil {
		return nil, ferr
	}
	unknown = append(unknown, paths...)
	u.SetAPIVersion(ks.gvk.GroupVersion().String())
	u.SetKind(ks.gvk.Kind)
	if foundMeta {
		if err := schemaobjectmeta.SetObjectMeta(u.Object, objectMeta); err != nil {
			return nil, err
		}
	}
	warnings := make([]string, 0, len(unknown))
	for _, p := range unknown {
		warnings = append(warnings, fmt.Sprintf("unknown field %q", p))
	}
	return warnings, nil
}

// validate is customResourceStrategy.Validate for a create request, with the
// checks of customResourceValidator.Validate inlined.
func (ks *kindSchema) validate(ctx context.Context, u *unstructured.Unstructured) field.ErrorList {
	errs := validateObjectMeta(ctx, u)
	if !ks.schemaCheck.passes(u.Object) {
		errs = append(errs, apiservervalidation.ValidateCustomResource(nil, u.UnstructuredContent(), ks.schemaValidator)...)
	}
	errs = append(errs, schemaobjectmeta.Validate(ctx, nil, u.Object, ks.structural, false)...)
	errs = append(errs, structurallisttype.ValidateListSetsAndMaps(nil, ks.structural, u.Object)...)
	if ks.cel == nil {
		return errs
	}
	if blocked := blockingError(errs); blocked != nil {
		return append(errs, blocked)
	}
	if ks.celCheck != nil && ks.celCheck.passes(ctx, u.Object, celconfig.RuntimeCELCostBudget) {
		return errs
	}
	celErrs, _ := ks.cel.Validate(ctx, nil, ks.structural, u.Object, nil, celconfig.RuntimeCELCostBudget)
	return append(errs, celErrs...)
}

// validateObjectMeta is the API server's metadata check for a namespaced
// custom resource: the name must be a DNS subdomain. Standalone mode cannot
// generate names, so a name is required even when generateName is set.
func validateObjectMeta(ctx context.Context, u *unstructured.Unstructured) field.ErrorList {
	meta := &metav1.ObjectMeta{}
	if raw, found := u.Object["metadata"]; found && raw != nil {
		m, ok := raw.(map[string]any)
		if !ok {
			return field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, fmt.Sprintf("expected map[string]interface{}, got %T", raw))}
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, meta); err != nil {
			return field.ErrorList{field.Invalid(field.NewPath("metadata"), raw, err.Error())}
		}
	}
	errs := apimachineryvalidation.ValidateObjectMetaDeclaratively(ctx, operation.Create, meta, nil, true,
		apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"),
		utilfeature.DefaultFeatureGate.Enabled(features.DeclarativeValidationBeta))
	if meta.Name == "" && meta.GenerateName != "" {
		errs = append(errs, field.Required(field.NewPath("metadata", "name"), "standalone mode cannot generate names from generateName"))
	}
	return errs
}

// blockingError is hasBlockingErr of the API server's CR strategy: after a
// type, required, enum or size violation the CEL rules are not run (their cost
// estimates rely on those bounds), and one error says so.
func blockingError(errs field.ErrorList) *field.Error {
	for _, err := range errs {
		switch err.Type {
		case field.ErrorTypeNotSupported, field.ErrorTypeRequired, field.ErrorTypeTooLong,
			field.ErrorTypeTooMany, field.ErrorTypeTypeInvalid:
			return field.Invalid(nil, nil, "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation")
		}
	}
	return nil
}
