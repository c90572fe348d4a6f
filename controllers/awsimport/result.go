package awsimport

import (
	"bytes"
	"fmt"
	"io"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// Result is what an import produced: the objects, in the order they are
// written (Apis, Stages, Authorizers, Routes, UsagePlans), and the report.
type Result struct {
	Apis        []v1alpha1.Api
	Stages      []v1alpha1.Stage
	Authorizers []v1alpha1.Authorizer
	Routes      []v1alpha1.Route
	UsagePlans  []v1alpha1.UsagePlan
	Report      Report
}

// Objects returns every object, in output order.
func (r *Result) Objects() []any {
	var out []any
	for i := range r.Apis {
		out = append(out, &r.Apis[i])
	}
	for i := range r.Stages {
		out = append(out, &r.Stages[i])
	}
	for i := range r.Authorizers {
		out = append(out, &r.Authorizers[i])
	}
	for i := range r.Routes {
		out = append(out, &r.Routes[i])
	}
	for i := range r.UsagePlans {
		out = append(out, &r.UsagePlans[i])
	}
	return out
}

// WriteYAML writes the objects as a multi-document YAML stream.
func (r *Result) WriteYAML(w io.Writer) error {
	var buf bytes.Buffer
	for i, obj := range r.Objects() {
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("marshalling object %d: %w", i, err)
		}
		buf.WriteString("---\n")
		buf.Write(cleanYAML(b))
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// cleanYAML drops the empty status and creationTimestamp that the Go types
// always marshal, so the output reads as a user would write it.
func cleanYAML(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("  creationTimestamp: null\n"), nil)
	b = bytes.ReplaceAll(b, []byte("status: {}\n"), nil)
	return b
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: kind}
}

func objectMeta(name, namespace string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: namespace}
}
