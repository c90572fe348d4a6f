package controllers

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/turnpike-io/turnpike/api/v1alpha1"
	"github.com/turnpike-io/turnpike/controllers/translate"
)

// fingerprintMeta is the part of ObjectMeta the translation may depend on.
// resourceVersion and managedFields are left out on purpose: they change on
// every status write.
type fingerprintMeta struct {
	Namespace         string            `json:"ns"`
	Name              string            `json:"n"`
	UID               types.UID         `json:"u,omitempty"`
	Generation        int64             `json:"g,omitempty"`
	CreationTimestamp metav1.Time       `json:"c"`
	Deleting          bool              `json:"d,omitempty"`
	Labels            map[string]string `json:"l,omitempty"`
	Annotations       map[string]string `json:"a,omitempty"`
}

type fingerprintEntry struct {
	Kind string          `json:"k"`
	Meta fingerprintMeta `json:"m"`
	Spec any             `json:"s"`
}

type secretContent struct {
	Type string            `json:"t"`
	Data map[string][]byte `json:"d,omitempty"`
}

func metaOf(m *metav1.ObjectMeta) fingerprintMeta {
	return fingerprintMeta{
		Namespace: m.Namespace, Name: m.Name, UID: m.UID, Generation: m.Generation,
		CreationTimestamp: m.CreationTimestamp, Deleting: m.DeletionTimestamp != nil,
		Labels: m.Labels, Annotations: m.Annotations,
	}
}

// Fingerprint hashes everything in snap that the translation depends on, and
// nothing else: EndpointSlices are left out (they take the endpoint fast
// path), and so are status, resourceVersion and managedFields (the status
// writer's own writes change those and must not cause a re-translation).
// Objects are hashed in slice order: sources sort them, so equal content gives
// an equal fingerprint. It encodes specs, never copies objects, so its cost is
// one JSON encoding of the snapshot.
func Fingerprint(snap *translate.Snapshot) ([sha256.Size]byte, error) {
	h := sha256.New()
	enc := json.NewEncoder(h)
	var err error
	add := func(kind string, m *metav1.ObjectMeta, spec any) {
		if err == nil {
			err = enc.Encode(fingerprintEntry{Kind: kind, Meta: metaOf(m), Spec: spec})
		}
	}
	for i := range snap.Apis {
		add("Api", &snap.Apis[i].ObjectMeta, &snap.Apis[i].Spec)
	}
	for i := range snap.Routes {
		add("Route", &snap.Routes[i].ObjectMeta, &snap.Routes[i].Spec)
	}
	for i := range snap.Stages {
		add("Stage", &snap.Stages[i].ObjectMeta, &snap.Stages[i].Spec)
	}
	for i := range snap.Authorizers {
		add("Authorizer", &snap.Authorizers[i].ObjectMeta, &snap.Authorizers[i].Spec)
	}
	for i := range snap.UsagePlans {
		add("UsagePlan", &snap.UsagePlans[i].ObjectMeta, &snap.UsagePlans[i].Spec)
	}
	for i := range snap.Services {
		add("Service", &snap.Services[i].ObjectMeta, &snap.Services[i].Spec)
	}
	for i := range snap.Secrets {
		s := &snap.Secrets[i]
		add("Secret", &s.ObjectMeta, secretContent{Type: string(s.Type), Data: s.Data})
	}
	var sum [sha256.Size]byte
	if err != nil {
		return sum, fmt.Errorf("fingerprint: %w", err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

// ObjectFingerprint hashes one object of the snapshot kinds as Fingerprint
// encodes it (kind, the metadata the translation may depend on, the spec; a
// Secret's type and data). ok is false for what Fingerprint leaves out
// (EndpointSlices and unknown types), which then has no fingerprint.
//
// A source that keeps per-object fingerprints combines them into a snapshot
// fingerprint of its own (WithFingerprint): equal combinations must mean
// equal Fingerprint input, so a combination covers every fingerprinted
// object once, in snapshot order, with anything it stamps later.
func ObjectFingerprint(obj runtime.Object) (sum [sha256.Size]byte, ok bool, err error) {
	var e fingerprintEntry
	switch o := obj.(type) {
	case *v1alpha1.Api:
		e = fingerprintEntry{Kind: "Api", Meta: metaOf(&o.ObjectMeta), Spec: &o.Spec}
	case *v1alpha1.Route:
		e = fingerprintEntry{Kind: "Route", Meta: metaOf(&o.ObjectMeta), Spec: &o.Spec}
	case *v1alpha1.Stage:
		e = fingerprintEntry{Kind: "Stage", Meta: metaOf(&o.ObjectMeta), Spec: &o.Spec}
	case *v1alpha1.Authorizer:
		e = fingerprintEntry{Kind: "Authorizer", Meta: metaOf(&o.ObjectMeta), Spec: &o.Spec}
	case *v1alpha1.UsagePlan:
		e = fingerprintEntry{Kind: "UsagePlan", Meta: metaOf(&o.ObjectMeta), Spec: &o.Spec}
	case *corev1.Service:
		e = fingerprintEntry{Kind: "Service", Meta: metaOf(&o.ObjectMeta), Spec: &o.Spec}
	case *corev1.Secret:
		e = fingerprintEntry{Kind: "Secret", Meta: metaOf(&o.ObjectMeta), Spec: secretContent{Type: string(o.Type), Data: o.Data}}
	default:
		return sum, false, nil
	}
	h := sha256.New()
	if err := json.NewEncoder(h).Encode(e); err != nil {
		return sum, false, fmt.Errorf("fingerprint: %w", err)
	}
	copy(sum[:], h.Sum(nil))
	return sum, true, nil
}
