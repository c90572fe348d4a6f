package standalone

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers"
)

// DefaultNamespace is the namespace of objects whose file names none, as
// kubectl's default context would use.
const DefaultNamespace = "default"

// Secret types that standalone mode reads; Secrets of other types are ignored,
// exactly as the cluster source only caches these three.
const (
	secretTypeTLS            = string(corev1.SecretTypeTLS)
	secretTypeAPIKey         = v1alpha1.ApiKeySecretType
	secretTypeAWSCredentials = v1alpha1.AWSCredentialsSecretType
)

// kubeObject is a typed object of one of the eight kinds standalone reads.
type kubeObject interface {
	metav1.Object
	runtime.Object
}

// objectKey identifies an object for duplicate detection.
type objectKey struct {
	Kind      string
	Namespace string
	Name      string
}

var (
	serviceGVK       = corev1.SchemeGroupVersion.WithKind("Service")
	secretGVK        = corev1.SchemeGroupVersion.WithKind("Secret")
	endpointSliceGVK = discoveryv1.SchemeGroupVersion.WithKind("EndpointSlice")
)

// newTurnpikeObject returns an empty typed object of one of the five kinds.
func newTurnpikeObject(kind string) kubeObject {
	switch kind {
	case "Api":
		return &v1alpha1.Api{}
	case "Route":
		return &v1alpha1.Route{}
	case "Stage":
		return &v1alpha1.Stage{}
	case "Authorizer":
		return &v1alpha1.Authorizer{}
	case "UsagePlan":
		return &v1alpha1.UsagePlan{}
	}
	return nil
}

// objectConverter turns decoded documents into typed objects: the five kinds
// through the Validator, the core kinds through strict JSON decoding.
type objectConverter struct {
	validator *Validator
	log       logr.Logger
}

// convert returns the typed object of u, or nil (and no error) when u is of
// a kind or Secret type that standalone mode ignores; the reason is logged.
// Warnings (unknown fields) are logged with the file and line; quiet says
// nothing was logged.
func (c objectConverter) convert(ctx context.Context, u *unstructured.Unstructured, file string, line int) (obj kubeObject, quiet bool, err error) {
	if u.GetNamespace() == "" {
		u.SetNamespace(DefaultNamespace)
	}
	gvk := u.GroupVersionKind()
	log := c.log.WithValues("file", file, "line", line, "kind", gvk.Kind, "namespace", u.GetNamespace(), "name", u.GetName())
	var warnings []string
	switch {
	case c.validator.Handles(gvk):
		warnings, err = c.validator.DefaultAndValidate(ctx, u)
		if err == nil {
			obj = newTurnpikeObject(gvk.Kind)
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
		}
	case gvk == serviceGVK:
		obj, warnings, err = decodeCore(u, &corev1.Service{}, apimachineryvalidation.NameIsDNS1035Label)
	case gvk == endpointSliceGVK:
		obj, warnings, err = decodeCore(u, &discoveryv1.EndpointSlice{}, apimachineryvalidation.NameIsDNSSubdomain)
	case gvk == secretGVK:
		obj, warnings, err = decodeSecret(u)
		if err == nil && obj == nil {
			log.Info("ignoring Secret: standalone mode reads only Secrets of type kubernetes.io/tls, turnpike.io/api-key and turnpike.io/aws-credentials",
				"type", u.Object["type"])
		}
	default:
		log.Info("ignoring object: standalone mode reads the five turnpike.io kinds, Services, Secrets and EndpointSlices",
			"apiVersion", u.GetAPIVersion())
	}
	for _, w := range warnings {
		log.Info("warning: field ignored", "warning", w)
	}
	return obj, obj != nil && len(warnings) == 0, err
}

// decodeCore decodes a core object the way the API server's strict decoder
// does (unknown and duplicate fields are reported, here as warnings) and
// checks its metadata with nameFn.
func decodeCore(u *unstructured.Unstructured, into kubeObject, nameFn apimachineryvalidation.ValidateNameFunc) (kubeObject, []string, error) {
	data, err := utiljson.Marshal(u.Object)
	if err != nil {
		return nil, nil, err
	}
	strictErrs, err := kjson.UnmarshalStrict(data, into)
	if err != nil {
		return nil, nil, fmt.Errorf("%s %q: %w", u.GetKind(), u.GetName(), err)
	}
	warnings := make([]string, 0, len(strictErrs))
	for _, e := range strictErrs {
		warnings = append(warnings, e.Error())
	}
	meta, ok := into.(metav1.ObjectMetaAccessor)
	if !ok {
		return nil, nil, fmt.Errorf("%T has no ObjectMeta", into)
	}
	errs := apimachineryvalidation.ValidateObjectMeta(meta.GetObjectMeta().(*metav1.ObjectMeta), true, nameFn, field.NewPath("metadata"))
	if len(errs) > 0 {
		gk := schema.GroupKind{Group: u.GroupVersionKind().Group, Kind: u.GetKind()}
		return nil, nil, apierrors.NewInvalid(gk, u.GetName(), errs)
	}
	return into, warnings, nil
}

// decodeSecret decodes a Secret, merges stringData into data as the API
// server's conversion does (stringData wins, then stringData is cleared),
// hashes API keys, and returns nil for the Secret types standalone mode does not read.
func decodeSecret(u *unstructured.Unstructured) (kubeObject, []string, error) {
	obj, warnings, err := decodeCore(u, &corev1.Secret{}, apimachineryvalidation.NameIsDNSSubdomain)
	if err != nil {
		return nil, nil, err
	}
	secret := obj.(*corev1.Secret)
	if t := string(secret.Type); t != secretTypeTLS && t != secretTypeAPIKey && t != secretTypeAWSCredentials {
		return nil, warnings, nil
	}
	if len(secret.StringData) > 0 && secret.Data == nil {
		secret.Data = make(map[string][]byte, len(secret.StringData))
	}
	for k, v := range secret.StringData {
		secret.Data[k] = []byte(v)
	}
	secret.StringData = nil
	// As the cluster's informer transform does: no key value stays in memory,
	// and both modes hand the translator the same (hashed) Secret.
	controllers.HashAPIKey(secret)
	return secret, warnings, nil
}
