package translate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
)

// decodeSnapshot reads multi-document YAML into a Snapshot, keyed on kind.
// Like standalone mode, a missing namespace is "default"; a missing
// generation is 1.
func decodeSnapshot(data []byte) (*Snapshot, error) {
	s := &Snapshot{}
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return s, nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		if err := decodeInto(s, doc); err != nil {
			return nil, err
		}
	}
}

func decodeInto(s *Snapshot, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	var err error
	switch tm.Kind {
	case "Api":
		s.Apis, err = appendDecoded(s.Apis, doc, func(o *v1alpha1.Api) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "Route":
		s.Routes, err = appendDecoded(s.Routes, doc, func(o *v1alpha1.Route) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "Stage":
		s.Stages, err = appendDecoded(s.Stages, doc, func(o *v1alpha1.Stage) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "Authorizer":
		s.Authorizers, err = appendDecoded(s.Authorizers, doc, func(o *v1alpha1.Authorizer) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "UsagePlan":
		s.UsagePlans, err = appendDecoded(s.UsagePlans, doc, func(o *v1alpha1.UsagePlan) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "Service":
		s.Services, err = appendDecoded(s.Services, doc, func(o *corev1.Service) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "EndpointSlice":
		s.EndpointSlices, err = appendDecoded(s.EndpointSlices, doc, func(o *discoveryv1.EndpointSlice) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "Secret":
		s.Secrets, err = appendDecoded(s.Secrets, doc, func(o *corev1.Secret) *metav1.ObjectMeta { return &o.ObjectMeta })
	case "Options":
		// The case's translate.Options (caseOptions); not part of the snapshot.
	default:
		return fmt.Errorf("unknown kind %q", tm.Kind)
	}
	return err
}

func appendDecoded[T any](list []T, doc []byte, meta func(*T) *metav1.ObjectMeta) ([]T, error) {
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return list, err
	}
	m := meta(&obj)
	if m.Namespace == "" {
		m.Namespace = "default"
	}
	if m.Generation == 0 {
		m.Generation = 1
	}
	return append(list, obj), nil
}

// caseOptions are testOptions with the fields a case's "kind: Options"
// document sets (at most one; none keeps testOptions).
func caseOptions(data []byte) (Options, error) {
	o := testOptions
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return o, nil
		}
		if err != nil {
			return o, err
		}
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil || tm.Kind != "Options" {
			continue
		}
		var c struct {
			metav1.TypeMeta `json:",inline"`
			NoHTTPSListener bool            `json:"noHTTPSListener"`
			DenyEgress      []netip.Prefix  `json:"denyEgress"`
			GracePeriod     metav1.Duration `json:"gracePeriod"`
		}
		if err := yaml.UnmarshalStrict(doc, &c); err != nil {
			return o, err
		}
		o.NoHTTPSListener, o.DenyEgress, o.GracePeriod = c.NoHTTPSListener, c.DenyEgress, c.GracePeriod.Duration
	}
}
